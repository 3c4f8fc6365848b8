import type { MailKind } from "./kinds";
import { button, codeBlock, digestList, note, p } from "./layout";

/** One locale's template for one kind: every part, each a template (engine.ts). */
export interface Template {
  subject: string;
  text: string;
  /** The body only; the layout (layout.ts) frames it with the tenant's name and colour. */
  html: string;
}

const hi = "{{#name}}Hi {{name}},{{/name}}{{^name}}Hi,{{/name}}";
const notYou = "If you did not ask for this, you can ignore this email.";

/** The built-in English templates: the fallback for every locale, so every kind must be here. */
export const en: Record<MailKind, Template> = {
  verify_email: {
    subject: "Confirm your email address for {{brand}}",
    text: `${hi}

Please confirm your email address for {{brand}}.
{{#link}}
Open this link: {{link}}
{{/link}}
Or enter this code: {{code}}

The link and the code expire in {{expiresMinutes}} minutes. ${notYou}`,
    html:
      p(hi) +
      p("Please confirm your email address for {{brand}}.") +
      button("Confirm email address", "link", "Or open this link:") +
      p("Or enter this code:") +
      codeBlock("code") +
      note(`The link and the code expire in {{expiresMinutes}} minutes. ${notYou}`),
  },
  password_reset: {
    subject: "Reset your {{brand}} password",
    text: `${hi}

Someone asked to reset the password of your {{brand}} account.
{{#link}}
Open this link to choose a new one: {{link}}
{{/link}}
Or enter this code: {{code}}

The link and the code expire in {{expiresMinutes}} minutes. ${notYou} Your password stays as it is.`,
    html:
      p(hi) +
      p("Someone asked to reset the password of your {{brand}} account.") +
      button("Choose a new password", "link", "Or open this link:") +
      p("Or enter this code:") +
      codeBlock("code") +
      note(`The link and the code expire in {{expiresMinutes}} minutes. ${notYou} Your password stays as it is.`),
  },
  password_changed: {
    subject: "Your {{brand}} password was changed",
    text: `${hi}

The password of your {{brand}} account was changed on {{time}}.

If this was you, there is nothing to do. If it was not, reset your password now and sign out your other sessions.`,
    html:
      p(hi) +
      p("The password of your {{brand}} account was changed on {{time}}.") +
      note(
        "If this was you, there is nothing to do. If it was not, reset your password now and sign out your other sessions.",
      ),
  },
  sign_in_code: {
    // The code stays out of the subject: subjects show on lock screens and in notifications.
    subject: "Your {{brand}} sign-in code",
    text: `${hi}

Your code to sign in to {{brand}}: {{code}}

It expires in {{expiresMinutes}} minutes. Never share it with anyone. If you did not try to sign in, you can ignore this email.`,
    html:
      p(hi) +
      p("Your code to sign in to {{brand}}:") +
      codeBlock("code") +
      note(
        "It expires in {{expiresMinutes}} minutes. Never share it with anyone. If you did not try to sign in, you can ignore this email.",
      ),
  },
  email_change_confirm: {
    subject: "Confirm your new email address for {{brand}}",
    text: `${hi}

Please confirm that {{newEmail}} is the new email address of your {{brand}} account.
{{#link}}
Open this link: {{link}}
{{/link}}
The link expires in {{expiresMinutes}} minutes. ${notYou}`,
    html:
      p(hi) +
      p("Please confirm that <strong>{{newEmail}}</strong> is the new email address of your {{brand}} account.") +
      button("Confirm new address", "link", "Or open this link:") +
      note(`The link expires in {{expiresMinutes}} minutes. ${notYou}`),
  },
  email_change_notice: {
    subject: "The email address of your {{brand}} account is being changed",
    text: `${hi}

Someone asked to change the email address of your {{brand}} account to {{newEmail}}.

If this was you, there is nothing to do. If it was not, undo the change within {{undoHours}} hours{{#undoLink}}:
{{undoLink}}{{/undoLink}}{{^undoLink}}.{{/undoLink}}`,
    html:
      p(hi) +
      p("Someone asked to change the email address of your {{brand}} account to <strong>{{newEmail}}</strong>.") +
      p("If this was you, there is nothing to do. If it was not, undo the change within {{undoHours}} hours.") +
      button("Undo the change", "undoLink", "Or open this link:"),
  },
  notification: {
    subject: "{{title}}",
    text: `${hi}

{{title}}

{{body}}
{{#link}}
Open: {{link}}
{{/link}}
You get this email from {{brand}} because of your notification settings.`,
    html:
      p(hi) +
      p("<strong>{{title}}</strong>") +
      p("{{body}}") +
      button("Open", "link", "Or open this link:") +
      note("You get this email from {{brand}} because of your notification settings."),
  },
  digest: {
    subject: "Your {{brand}} digest",
    text: `${hi}

Here is what you missed on {{brand}}:

{{#items}}- {{title}} ({{time}})
  {{body}}

{{/items}}{{#link}}See everything: {{link}}
{{/link}}
You get this email from {{brand}} because of your notification settings.`,
    html:
      p(hi) +
      p("Here is what you missed on {{brand}}:") +
      digestList +
      button("See everything", "link", "Or open this link:") +
      note("You get this email from {{brand}} because of your notification settings."),
  },
};
