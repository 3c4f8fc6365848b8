/**
 * The one way the web apps put data on a page: elements built with `h`, where every string is a
 * text node (escaped by construction, never parsed as HTML) and attributes go through
 * `setAttribute`. Nothing here touches innerHTML; `on*` attributes take functions only, and URL
 * attributes refuse anything but http(s), relative and blob URLs, so a hostile value
 * (`<img src=x onerror=alert(1)>` as a nickname) shows as the text it is.
 */
export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (e: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

const URL_ATTRS = new Set(["href", "src", "action", "formaction"]);
const SAFE_URL = /^(?:https?:|blob:|[#/?.]|[^:]*$)/i;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      if (!name.startsWith("on")) throw new Error(`a function for ${name}`);
      el.addEventListener(name.slice(2), value);
      continue;
    }
    if (name.startsWith("on")) throw new Error(`${name} takes a function, not text`);
    const text = value === true ? "" : String(value);
    if (URL_ATTRS.has(name) && !SAFE_URL.test(text.trim())) throw new Error(`unsafe URL in ${name}`);
    el.setAttribute(name, text);
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's content. */
export function render(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}
