import { describe, expect, it } from "vitest";
import { type EmailConfig, emailSection } from "../../src/workers/mail/config";
import { localeChain, MAIL_KINDS, type MailKind, type MailVars, renderMail } from "../../src/workers/mail/templates";
import { templateProblems } from "../../src/workers/mail/templates/checks";
import { en } from "../../src/workers/mail/templates/en";
import { es } from "../../src/workers/mail/templates/es";

const brand = { name: "Acme", color: "#0f766e" };
const link = "https://acme.example/verify?t=abc";

/** Typical variables of every kind, so every kind can be rendered in a loop. */
const sample: { [K in MailKind]: MailVars[K] } = {
  verify_email: { name: "Ana", link, code: "123456", expiresMinutes: 30 },
  password_reset: { name: "Ana", link, code: "654321", expiresMinutes: 15 },
  password_changed: { name: "Ana", time: "2030-01-02 03:04 UTC" },
  sign_in_code: { name: "Ana", code: "111222", expiresMinutes: 10 },
  email_change_confirm: { name: "Ana", newEmail: "new@acme.example", link, expiresMinutes: 60 },
  email_change_notice: { name: "Ana", newEmail: "new@acme.example", undoLink: link, undoHours: 72 },
  notification: { name: "Ana", title: "Bob sent you a message", body: "Hi!\nSee you soon", link },
  digest: { name: "Ana", items: [{ title: "Bob", body: "Hello", time: "09:00" }], link },
};

const render = <K extends MailKind>(
  kind: K,
  vars: MailVars[K],
  more: { locale?: string | null; overrides?: EmailConfig["templates"] } = {},
) => renderMail(kind, { brand, locale: "en", ...more, vars });

/** Overrides as the tenant config stores them: through the section's schema. */
const overridesOf = (templates: unknown) => emailSection.parse({ templates }).templates;

const XSS_NAMES = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>'];

describe("built-in templates", () => {
  it("every kind renders in en and es, with a subject line, a text part and a branded HTML part", () => {
    for (const kind of MAIL_KINDS) {
      const english = renderMail(kind, { brand, locale: "en", vars: sample[kind] });
      const spanish = renderMail(kind, { brand, locale: "es", vars: sample[kind] });
      for (const mail of [english, spanish]) {
        expect(mail.subject, kind).not.toMatch(/[\r\n]/);
        expect(mail.subject.length, kind).toBeGreaterThan(0);
        expect(mail.text, kind).toMatch(/^(Hi Ana,|Hola, Ana:)\n\n/);
        expect(mail.html, kind).toContain('<td bgcolor="#0f766e" style="background:#0f766e;color:#ffffff;');
        expect(mail.html, kind).toContain(">Acme</td>");
        expect(mail.html, kind).toContain("max-width:600px");
      }
      expect(english.html, kind).toContain('<html lang="en">');
      expect(spanish.html, kind).toContain('<html lang="es">');
      expect(spanish.text, kind).not.toBe(english.text);
    }
  });

  it("says concrete things: the code, the link as text and as a button, the expiry", () => {
    const mail = render("verify_email", sample.verify_email);
    expect(mail.subject).toBe("Confirm your email address for Acme");
    expect(mail.text).toBe(
      "Hi Ana,\n\nPlease confirm your email address for Acme.\n\nOpen this link: https://acme.example/verify?t=abc\n\n" +
        "Or enter this code: 123456\n\nThe link and the code expire in 30 minutes. If you did not ask for this, you can ignore this email.",
    );
    expect(mail.html).toContain('<a href="https://acme.example/verify?t=abc" target="_blank"');
    expect(mail.html).toContain(">Confirm email address</a>");
    expect(mail.html).toContain(">123456</p>");
    expect(renderMail("password_reset", { brand, locale: "es", vars: sample.password_reset }).subject).toBe(
      "Restablece tu contraseña de Acme",
    );
  });

  it("greets without a name when the user has none", () => {
    expect(render("sign_in_code", { ...sample.sign_in_code, name: " " }).text).toMatch(/^Hi,\n/);
    const es = renderMail("sign_in_code", { brand, locale: "es", vars: { ...sample.sign_in_code, name: "" } });
    expect(es.text).toMatch(/^Hola:\n/);
    expect(es.html).toContain('<p style="margin:0 0 16px;">Hola:</p>');
  });

  it("are valid templates by the same rules as a tenant's overrides", () => {
    for (const [locale, set] of Object.entries({ en, es }))
      for (const kind of MAIL_KINDS)
        for (const part of ["subject", "text", "html"] as const)
          expect(templateProblems(kind, part, set[kind][part]), `${locale} ${kind} ${part}`).toEqual([]);
  });
});

describe("locale", () => {
  const subject = (locale: string | null | undefined) =>
    renderMail("password_changed", { brand, locale, vars: sample.password_changed }).subject;

  it("falls back from a region to its language, and from an unknown language to en", () => {
    expect(localeChain("es-MX")).toEqual(["es-mx", "es", "en"]);
    expect(subject("es-MX")).toBe("Se cambió tu contraseña de Acme");
    expect(subject("ES")).toBe("Se cambió tu contraseña de Acme");
    expect(subject("fr")).toBe("Your Acme password was changed");
    expect(subject(null)).toBe("Your Acme password was changed");
    expect(subject("")).toBe("Your Acme password was changed");
    expect(subject("../../etc")).toBe("Your Acme password was changed");
  });
});

describe("tenant overrides", () => {
  const overrides = overridesOf({
    verify_email: { "es-MX": { subject: "¡Verifica tu correo, {{name}}!" } },
    password_changed: {
      en: { html: "<p>Changed at {{time}}, {{name}}.</p>" },
      es: { text: "Cambio: {{time}}\n\n{{name}}, revisa tu cuenta." },
    },
    notification: { en: { text: "New: {{title}}\n\n{{body}}\n\n{{link}}" } },
  });

  it("apply per kind and locale, the built-ins elsewhere", () => {
    const vars = sample.verify_email;
    expect(renderMail("verify_email", { brand, locale: "es-MX", overrides, vars }).subject).toBe(
      "¡Verifica tu correo, Ana!",
    );
    expect(renderMail("verify_email", { brand, locale: "es", overrides, vars }).subject).toBe(
      "Confirma tu dirección de correo para Acme",
    );
    expect(renderMail("verify_email", { brand, locale: "en", overrides, vars }).subject).toBe(
      "Confirm your email address for Acme",
    );
    // The override gave only a subject: the body is still the built-in one.
    expect(renderMail("verify_email", { brand, locale: "es-MX", overrides, vars }).text).toContain(
      "O introduce este código: 123456",
    );
    expect(renderMail("password_reset", { brand, locale: "es-MX", overrides, vars }).subject).toBe(
      "Restablece tu contraseña de Acme",
    );
  });

  it("an HTML override keeps the built-in text part; a text override makes the HTML too", () => {
    const htmlOnly = renderMail("password_changed", { brand, locale: "en", overrides, vars: sample.password_changed });
    expect(htmlOnly.html).toContain("<p>Changed at 2030-01-02 03:04 UTC, Ana.</p>");
    expect(htmlOnly.text).toBe(render("password_changed", sample.password_changed).text);

    const textOnly = renderMail("password_changed", { brand, locale: "es", overrides, vars: sample.password_changed });
    expect(textOnly.text).toBe("Cambio: 2030-01-02 03:04 UTC\n\nAna, revisa tu cuenta.");
    expect(textOnly.html).toContain('<p style="margin:0 0 16px;">Cambio: 2030-01-02 03:04 UTC</p>');
    expect(textOnly.html).toContain('<p style="margin:0 0 16px;">Ana, revisa tu cuenta.</p>');
  });

  it("never leave a mail without a text part or a subject", () => {
    const empty = overridesOf({ sign_in_code: { en: { subject: "{{name}}", text: "{{name}}" } } });
    const vars = { ...sample.sign_in_code, name: "" };
    const mail = render("sign_in_code", vars, { overrides: empty });
    expect(mail.subject).toBe("Your Acme sign-in code");
    expect(mail.text).toBe(render("sign_in_code", vars).text);
    expect(mail.html).toBe(render("sign_in_code", vars).html);
    expect(render("sign_in_code", sample.sign_in_code, { overrides: empty }).text).toBe("Ana");
  });

  it("escape variables like the built-ins do", () => {
    for (const name of XSS_NAMES) {
      const mail = renderMail("password_changed", {
        brand,
        locale: "en",
        overrides,
        vars: { name, time: "<b>now</b>" },
      });
      expect(mail.html).toContain("<p>Changed at &lt;b&gt;now&lt;/b&gt;, ");
      expect(mail.html).not.toContain(name);
      const fromText = renderMail("notification", {
        brand,
        locale: "en",
        overrides,
        vars: { name, title: name, body: "a < b & c", link: "javascript:alert(1)" },
      });
      expect(fromText.html).not.toContain(name);
      expect(fromText.html).toContain("a &lt; b &amp; c");
      expect(fromText.html).not.toContain("javascript:");
      expect(fromText.text).toContain(`New: ${name}`);
    }
  });
});

describe("escaping", () => {
  it("HTML injection in names is escaped in emails (HTML part) and left as typed in the text part", () => {
    const [img, script] = XSS_NAMES as [string, string];
    const a = render("verify_email", { ...sample.verify_email, name: img });
    expect(a.html).toContain("Hi &lt;img src=x onerror=alert(1)&gt;,");
    expect(a.html).not.toContain("<img");
    expect(a.text).toContain(`Hi ${img},`);

    const b = render("notification", { ...sample.notification, name: script, title: script, body: script });
    expect(b.html).toContain("Hi &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;,");
    expect(b.html).not.toContain("<script");
    expect(b.html).toContain("<title>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>");
    expect(b.text).toContain(`Hi ${script},`);
    expect(b.subject).toBe(script);

    const c = renderMail("sign_in_code", { brand: { ...brand, name: "<b>Acme</b> & Co" }, vars: sample.sign_in_code });
    expect(c.html).toContain(">&lt;b&gt;Acme&lt;/b&gt; &amp; Co</td>");
    expect(c.html).toContain("Your code to sign in to &lt;b&gt;Acme&lt;/b&gt; &amp; Co:");
  });

  it("puts only http(s) links in an href, and drops the others from both parts", () => {
    for (const bad of [
      "javascript:alert(1)",
      " JaVaScRiPt:alert(1)",
      "data:text/html,<script>x</script>",
      "/relative",
    ]) {
      const mail = render("verify_email", { ...sample.verify_email, link: bad });
      expect(mail.html, bad).not.toContain("href=");
      expect(mail.html, bad).not.toMatch(/javascript|data:/i);
      expect(mail.html, bad).not.toContain("Confirm email address");
      expect(mail.text, bad).not.toContain("Open this link");
      expect(mail.text, bad).toContain("Or enter this code: 123456");
    }
    const quoted = render("notification", { ...sample.notification, link: 'https://acme.example/?q="><script>x' });
    expect(quoted.html).toContain('href="https://acme.example/?q=%22%3E%3Cscript%3Ex"');
    expect(quoted.html).not.toContain("<script");
  });

  it("keeps the subject on one line whatever a variable or an override holds (no header injection)", () => {
    const title = "Hello\r\nBcc: victim@example.com\u0000\u202e";
    const mail = render("notification", { ...sample.notification, title });
    expect(mail.subject).toBe("Hello Bcc: victim@example.com");
    const overrides = overridesOf({ notification: { en: { subject: "A\r\nX-Evil: 1 {{title}}" } } });
    expect(render("notification", sample.notification, { overrides }).subject).toBe(
      "A X-Evil: 1 Bob sent you a message",
    );
    // The text part keeps line breaks but not other controls.
    expect(mail.text).toContain("Hello\nBcc: victim@example.com\n");
  });

  it("uses the default colour for one that is not #rrggbb, and readable text on a light one", () => {
    for (const color of ["red;background:url(https://t.example/p.gif)", "#fff", "#12345g", '#000000"']) {
      const mail = renderMail("sign_in_code", { brand: { name: "Acme", color }, vars: sample.sign_in_code });
      expect(mail.html, color).toContain('bgcolor="#2563eb" style="background:#2563eb;color:#ffffff;');
      expect(mail.html, color).not.toContain("url(");
    }
    const light = renderMail("verify_email", { brand: { name: "Acme", color: "#FFCC00" }, vars: sample.verify_email });
    expect(light.html).toContain('bgcolor="#ffcc00" style="background:#ffcc00;color:#111827;');
  });

  it("lists a digest's items in order, escaped in HTML", () => {
    const items = [
      { title: "<b>Bob</b>", body: "Hi & bye", time: "09:00" },
      { title: "Carol", body: "line 1\nline 2", time: "10:30" },
    ];
    const mail = render("digest", { name: "Ana", items });
    expect(mail.text).toContain("- <b>Bob</b> (09:00)\n  Hi & bye\n\n- Carol (10:30)\n  line 1\nline 2\n");
    expect(mail.html).toContain("<strong>&lt;b&gt;Bob&lt;/b&gt;</strong>");
    expect(mail.html).toContain("09:00</span><br>Hi &amp; bye</td>");
    expect(mail.html).toContain("<br>line 1<br>line 2</td>");
    expect(mail.html.indexOf("Bob")).toBeLessThan(mail.html.indexOf("Carol"));
    expect(mail.html).not.toContain("See everything");
    expect(render("digest", { name: "Ana", items: [] }).html).not.toContain("<strong>");
  });
});

describe("the email config section", () => {
  it("fills defaults and keeps valid overrides", () => {
    expect(emailSection.parse(undefined)).toEqual({ brandColor: "#2563eb", templates: {} });
    const ok = emailSection.parse({
      brandColor: "#AABBCC",
      fromName: "Acme Support",
      templates: { digest: { es: null } },
    });
    expect(ok.fromName).toBe("Acme Support");
  });

  it("accepts the example of docs/mail-templates.md, and renders it", () => {
    const section = emailSection.parse({
      brandColor: "#0f766e",
      fromName: "Acme Support",
      templates: {
        verify_email: {
          "es-MX": { subject: "¡Verifica tu correo, {{name}}!" },
          en: {
            subject: "Welcome to {{brand}}: confirm your email",
            text: "{{#name}}Hi {{name}},{{/name}}{{^name}}Hi,{{/name}}\n\nConfirm your email: {{link}}\nOr enter {{code}} (valid {{expiresMinutes}} minutes).",
            html: '<p>Welcome to <strong>{{brand}}</strong>!</p><p><a href="{{link}}" style="color:{{color}}">Confirm your email</a> or enter <strong>{{code}}</strong>.</p>',
          },
        },
      },
    });
    const mail = renderMail("verify_email", {
      brand: { name: "Acme", color: section.brandColor },
      locale: "en-GB",
      overrides: section.templates,
      vars: sample.verify_email,
    });
    expect(mail.subject).toBe("Welcome to Acme: confirm your email");
    expect(mail.text).toBe(`Hi Ana,\n\nConfirm your email: ${link}\nOr enter 123456 (valid 30 minutes).`);
    expect(mail.html).toContain(
      `<p><a href="${link}" style="color:#0f766e">Confirm your email</a> or enter <strong>123456</strong>.</p>`,
    );
  });

  it.each([
    ["a colour that is not #rrggbb", { brandColor: "blue" }],
    ["a From name over two lines", { fromName: "Acme\r\nBcc: x@example.com" }],
    ["an unknown field", { logo: "x" }],
    ["an unknown kind", { templates: { welcome: { en: { subject: "Hi" } } } }],
    ["a malformed locale", { templates: { digest: { "e s": { subject: "Hi" } } } }],
    ["a locale twice", { templates: { digest: { es: { subject: "a" }, ES: { subject: "b" } } } }],
    ["an unknown variable", { templates: { sign_in_code: { en: { text: "{{nmae}} {{code}}" } } } }],
    ["an unclosed section", { templates: { digest: { en: { text: "{{#items}}{{title}}" } } } }],
    ["triple braces", { templates: { digest: { en: { html: "{{{name}}}" } } } }],
    ["a variable starting an href", { templates: { notification: { en: { html: '<a href="{{body}}">x</a>' } } } }],
    ["a variable in CSS", { templates: { notification: { en: { html: '<p style="color:{{title}}">x</p>' } } } }],
    ["a script", { templates: { notification: { en: { html: "<img src=x onerror=alert(1)>" } } } }],
    ["too many locales", { templates: { digest: Object.fromEntries([..."abcdefghijk"].map((c) => [`a${c}`, {}])) } }],
    ["a subject over 200 characters", { templates: { digest: { en: { subject: "x".repeat(201) } } } }],
  ])("refuses %s", (_, section) => {
    expect(emailSection.safeParse(section).success).toBe(false);
  });
});

describe("hostile template sizes", () => {
  // Each shape once made a check or the renderer backtrack quadratically (seconds per parse of the
  // stored config, on every request of the tenant). The test's own timeout is the bound.
  const big = (s: string) => s.repeat(Math.ceil(90_000 / s.length)).slice(0, 90_000);
  it.each([
    ["{{ and spaces", `{{${big(" ")}`],
    ["unclosed tags", big("<a ")],
    ["unclosed <style>", big("<style ")],
    ['unclosed style="', big('style="')],
    ["URL attributes", big("href=' {{ ")],
    ["spaces before line ends", big("  \n").replaceAll("\n", " ")],
  ])("checks and renders %s in one pass", (_, source) => {
    const section = { templates: { password_reset: { en: { html: source, text: source } } } };
    const parsed = emailSection.safeParse(section);
    const overrides = parsed.success ? parsed.data.templates : undefined;
    const mail = renderMail("password_reset", {
      brand: { name: "Acme", color: "#123456" },
      overrides,
      vars: { name: "", link: "https://app.example/r", code: "123456", expiresMinutes: 15 },
    });
    expect(mail.text.length).toBeGreaterThan(0);
  });
});
