/**
 * The tenant's config: each section the owner may change as JSON in its own field, the rest shown
 * read-only. Saving sends the changed sections; the server validates the whole and answers each
 * error with its path, shown under the field it belongs to.
 */
import { type CanopyClient, CanopyError } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { announce, form, page } from "../ui.js";

interface Section {
  name: string;
  input: HTMLTextAreaElement;
  error: HTMLElement;
  saved: string;
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

function showError(s: Section, message: string | null): void {
  s.error.textContent = message ?? "";
  if (message) s.input.setAttribute("aria-invalid", "true");
  else s.input.removeAttribute("aria-invalid");
}

export async function configPage(c: CanopyClient): Promise<HTMLElement> {
  const { data } = await c.api.GET("/v1/admin/config", {});
  const config = (data?.config ?? {}) as Record<string, unknown>;
  const editable = new Set(data?.editable ?? []);
  const sections: Section[] = [...editable].map((name) => {
    const error = h("p", { id: `err-${name}`, class: "error field-error" });
    const input = h("textarea", {
      id: `cfg-${name}`,
      name,
      rows: Math.min(16, pretty(config[name]).split("\n").length + 1),
      spellcheck: "false",
      class: "mono",
      "aria-describedby": `err-${name}`,
    });
    input.value = pretty(config[name]);
    return { name, input, error, saved: input.value };
  });
  const readOnly = Object.keys(config).filter((k) => !editable.has(k));
  const body = form(
    "Tenant config",
    async () => {
      const patch: Record<string, unknown> = {};
      let clientErrors = 0;
      for (const s of sections) {
        showError(s, null);
        if (s.input.value === s.saved) continue;
        try {
          patch[s.name] = JSON.parse(s.input.value);
        } catch (err) {
          clientErrors++;
          showError(s, `Not JSON: ${(err as Error).message}`);
        }
      }
      if (clientErrors) return announce("Some sections are not valid JSON; nothing was saved.", "error");
      if (!Object.keys(patch).length) return announce("Nothing changed.");
      try {
        const { data: now } = await c.api.PATCH("/v1/admin/config", { body: patch as never });
        for (const s of sections) {
          s.input.value = s.saved = pretty((now?.config as Record<string, unknown> | undefined)?.[s.name]);
        }
        announce(`Saved: ${Object.keys(patch).join(", ")}.`);
      } catch (err) {
        const issues = err instanceof CanopyError ? (err.problem?.errors ?? []) : [];
        if (!issues.length) throw err;
        for (const issue of issues) {
          const [head = "", ...rest] = issue.path.split(".");
          const s = sections.find((x) => x.name === head);
          const text = `${rest.length ? `${rest.join(".")}: ` : ""}${issue.message}`;
          if (s) showError(s, s.error.textContent ? `${s.error.textContent}; ${text}` : text);
        }
        sections.find((s) => s.input.hasAttribute("aria-invalid"))?.input.focus();
        announce("Nothing was saved: see the errors under the fields.", "error");
      }
    },
    sections.map((s) => h("div", { class: "field" }, h("label", { for: s.input.id }, s.name), s.input, s.error)),
    h("button", { type: "submit" }, "Save config"),
  );
  return page(
    "Config",
    h("p", null, "Each section is JSON. The server checks the whole config before anything is saved."),
    body,
    h(
      "details",
      null,
      h("summary", null, "Set by the platform operator"),
      readOnly.map((k) => h("div", null, h("h2", null, k), h("pre", { class: "mono" }, pretty(config[k])))),
    ),
  );
}
