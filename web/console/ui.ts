/** The console's small widgets: a live status line, tables, labelled fields, buttons that report. */
import { CanopyError } from "../../sdk/src/index.js";
import { type Attrs, type Child, h } from "../shared/dom.js";

/** What went wrong, as a person reads it: the problem's detail (or title), with its code. */
export function problemText(err: unknown): string {
  if (err instanceof CanopyError) {
    const p = err.problem;
    const detail = p?.detail ?? p?.title ?? err.message;
    return `${detail} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The page's live region: screen readers announce what lands here. */
export function announce(message: string, kind: "ok" | "error" = "ok"): void {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = message;
  el.className = kind === "error" ? "status error" : "status";
}

export const fail = (err: unknown) => announce(problemText(err), "error");

/** A button that disables itself while its action runs and reports what happened. */
export function action(label: string, run: () => Promise<string | undefined>, attrs: Attrs = {}): HTMLButtonElement {
  const b = h("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      const done = await run();
      if (done) announce(done);
    } catch (err) {
      fail(err);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

let fieldSeq = 0;
/** A form control with its visible label bound to it. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  control.id ||= `f${++fieldSeq}`;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
}

/** A data table with a caption and header cells scoped to their columns. */
export function table<T>(caption: string, columns: Column<T>[], rows: T[], empty = "Nothing here yet."): HTMLElement {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("caption", null, caption),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          columns.map((c) => h("th", { scope: "col" }, c.label)),
        ),
      ),
      h(
        "tbody",
        null,
        rows.map((r) =>
          h(
            "tr",
            null,
            columns.map((c) => h("td", { "data-label": c.label }, c.cell(r))),
          ),
        ),
      ),
    ),
  );
}

/** A page: its heading (focused on arrival, for keyboard and screen reader users) and body. */
export function page(title: string, ...body: Child[]): HTMLElement {
  document.title = `${title} · Canopy console`;
  return h("section", { "aria-labelledby": "page-title" }, h("h1", { id: "page-title", tabindex: -1 }, title), body);
}

/** A form whose submit runs `onSubmit` (the browser's own validation first); reports failures. */
export function form(
  label: string,
  onSubmit: (f: HTMLFormElement) => Promise<void>,
  ...children: Child[]
): HTMLFormElement {
  const f = h("form", { "aria-label": label }, children);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const submit = f.querySelector<HTMLButtonElement>("button[type=submit]");
    if (submit) submit.disabled = true;
    try {
      await onSubmit(f);
    } catch (err) {
      fail(err);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return f;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");
