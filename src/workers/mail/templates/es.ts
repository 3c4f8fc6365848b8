import type { Template } from "./en";
import type { MailKind } from "./kinds";
import { button, codeBlock, digestList, note, p } from "./layout";

const hola = "{{#name}}Hola, {{name}}:{{/name}}{{^name}}Hola:{{/name}}";
const noFuiste = "Si no lo pediste, puedes ignorar este correo.";

/** The built-in Spanish templates (neutral Spanish, `tú`), used for `es` and every `es-*` tag. */
export const es: Record<MailKind, Template> = {
  verify_email: {
    subject: "Confirma tu dirección de correo para {{brand}}",
    text: `${hola}

Confirma tu dirección de correo para {{brand}}.
{{#link}}
Abre este enlace: {{link}}
{{/link}}
O introduce este código: {{code}}

El enlace y el código caducan en {{expiresMinutes}} minutos. ${noFuiste}`,
    html:
      p(hola) +
      p("Confirma tu dirección de correo para {{brand}}.") +
      button("Confirmar dirección", "link", "O abre este enlace:") +
      p("O introduce este código:") +
      codeBlock("code") +
      note(`El enlace y el código caducan en {{expiresMinutes}} minutos. ${noFuiste}`),
  },
  password_reset: {
    subject: "Restablece tu contraseña de {{brand}}",
    text: `${hola}

Alguien pidió restablecer la contraseña de tu cuenta de {{brand}}.
{{#link}}
Abre este enlace para elegir una nueva: {{link}}
{{/link}}
O introduce este código: {{code}}

El enlace y el código caducan en {{expiresMinutes}} minutos. ${noFuiste} Tu contraseña no cambiará.`,
    html:
      p(hola) +
      p("Alguien pidió restablecer la contraseña de tu cuenta de {{brand}}.") +
      button("Elegir una contraseña nueva", "link", "O abre este enlace:") +
      p("O introduce este código:") +
      codeBlock("code") +
      note(`El enlace y el código caducan en {{expiresMinutes}} minutos. ${noFuiste} Tu contraseña no cambiará.`),
  },
  password_changed: {
    subject: "Se cambió tu contraseña de {{brand}}",
    text: `${hola}

La contraseña de tu cuenta de {{brand}} se cambió el {{time}}.

Si fuiste tú, no tienes que hacer nada. Si no, restablece tu contraseña ahora y cierra tus otras sesiones.`,
    html:
      p(hola) +
      p("La contraseña de tu cuenta de {{brand}} se cambió el {{time}}.") +
      note(
        "Si fuiste tú, no tienes que hacer nada. Si no, restablece tu contraseña ahora y cierra tus otras sesiones.",
      ),
  },
  sign_in_code: {
    subject: "Tu código para iniciar sesión en {{brand}}",
    text: `${hola}

Tu código para iniciar sesión en {{brand}}: {{code}}

Caduca en {{expiresMinutes}} minutos. No se lo des a nadie. Si no intentaste iniciar sesión, puedes ignorar este correo.`,
    html:
      p(hola) +
      p("Tu código para iniciar sesión en {{brand}}:") +
      codeBlock("code") +
      note(
        "Caduca en {{expiresMinutes}} minutos. No se lo des a nadie. Si no intentaste iniciar sesión, puedes ignorar este correo.",
      ),
  },
  email_change_confirm: {
    subject: "Confirma tu nueva dirección de correo para {{brand}}",
    text: `${hola}

Confirma que {{newEmail}} es la nueva dirección de correo de tu cuenta de {{brand}}.
{{#link}}
Abre este enlace: {{link}}
{{/link}}
El enlace caduca en {{expiresMinutes}} minutos. ${noFuiste}`,
    html:
      p(hola) +
      p("Confirma que <strong>{{newEmail}}</strong> es la nueva dirección de correo de tu cuenta de {{brand}}.") +
      button("Confirmar dirección nueva", "link", "O abre este enlace:") +
      note(`El enlace caduca en {{expiresMinutes}} minutos. ${noFuiste}`),
  },
  email_change_notice: {
    subject: "Se está cambiando la dirección de correo de tu cuenta de {{brand}}",
    text: `${hola}

Alguien pidió cambiar la dirección de correo de tu cuenta de {{brand}} a {{newEmail}}.

Si fuiste tú, no tienes que hacer nada. Si no, deshaz el cambio en las próximas {{undoHours}} horas{{#undoLink}}:
{{undoLink}}{{/undoLink}}{{^undoLink}}.{{/undoLink}}`,
    html:
      p(hola) +
      p("Alguien pidió cambiar la dirección de correo de tu cuenta de {{brand}} a <strong>{{newEmail}}</strong>.") +
      p("Si fuiste tú, no tienes que hacer nada. Si no, deshaz el cambio en las próximas {{undoHours}} horas.") +
      button("Deshacer el cambio", "undoLink", "O abre este enlace:"),
  },
  notification: {
    subject: "{{title}}",
    text: `${hola}

{{title}}

{{body}}
{{#link}}
Abrir: {{link}}
{{/link}}
Recibes este correo de {{brand}} por tu configuración de notificaciones.`,
    html:
      p(hola) +
      p("<strong>{{title}}</strong>") +
      p("{{body}}") +
      button("Abrir", "link", "O abre este enlace:") +
      note("Recibes este correo de {{brand}} por tu configuración de notificaciones."),
  },
  digest: {
    subject: "Tu resumen de {{brand}}",
    text: `${hola}

Esto es lo que te perdiste en {{brand}}:

{{#items}}- {{title}} ({{time}})
  {{body}}

{{/items}}{{#link}}Ver todo: {{link}}
{{/link}}
Recibes este correo de {{brand}} por tu configuración de notificaciones.`,
    html:
      p(hola) +
      p("Esto es lo que te perdiste en {{brand}}:") +
      digestList +
      button("Ver todo", "link", "O abre este enlace:") +
      note("Recibes este correo de {{brand}} por tu configuración de notificaciones."),
  },
};
