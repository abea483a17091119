/**
 * The only way the console makes elements. Children that are strings become text nodes, attributes
 * are set one by one from an allowlist, and nothing is ever parsed as HTML: a goal, a diff or an
 * error message from the API shows as the characters it holds.
 */
export type Child = Node | string | number | false | null | undefined | Child[];

const ATTRIBUTES: ReadonlySet<string> = new Set([
  'id',
  'class',
  'for',
  'type',
  'name',
  'value',
  'placeholder',
  'role',
  'title',
  'rows',
  'cols',
  'min',
  'max',
  'minlength',
  'maxlength',
  'required',
  'disabled',
  'checked',
  'selected',
  'tabindex',
  'colspan',
  'scope',
  'datetime',
  'autocomplete',
  'lang',
]);

export interface Props {
  [name: string]: string | number | boolean | undefined | ((event: Event) => void);
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'href') {
      element.setAttribute('href', safeHref(String(value)));
    } else if (ATTRIBUTES.has(name) || name.startsWith('aria-') || name.startsWith('data-')) {
      element.setAttribute(name, value === true ? '' : String(value));
    } else {
      throw new Error(`h(): attribute ${name} is not allowed`);
    }
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Links stay inside the console (`#/…`) or this origin; anything else (javascript:, data:, other hosts) becomes `#`. */
export function safeHref(href: string): string {
  if (href.startsWith('#')) return href;
  try {
    const url = new URL(href, location.href);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : '#';
  } catch {
    return '#';
  }
}

/** Replaces what a container shows. */
export function show(container: Element, ...children: Child[]): void {
  container.replaceChildren();
  append(container, children);
}
