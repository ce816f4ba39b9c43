import type { NumberedTab } from "./tab-list.ts";

export interface TabBarActions {
  activate(number: number): void;
  close(number: number): void;
  add(): void;
}

/** Renders the tab buttons into `bar`: one per session, labelled with its number and session id. */
export function renderTabBar(bar: HTMLElement, tabs: readonly NumberedTab[], active: NumberedTab | undefined, actions: TabBarActions): void {
  const buttons = tabs.map(({ number, tab }) => {
    const item = document.createElement("div");
    item.className = "tab";
    item.classList.toggle("active", active?.number === number);
    item.dataset["connection"] = tab.status.connection;
    const select = document.createElement("button");
    select.className = "tab-select";
    select.textContent = `${number} ${tab.status.hello?.session.slice(0, 6) ?? "…"}`;
    const session = tab.status.hello ? `session ${tab.status.hello.session}` : "connecting";
    select.title = tab.status.title ? `${tab.status.title} (${session})` : session;
    // Which tab is shown, for screen readers too (the class only styles it).
    if (active?.number === number) select.setAttribute("aria-current", "true");
    select.addEventListener("click", () => actions.activate(number));
    const close = document.createElement("button");
    close.className = "tab-close";
    close.textContent = "×";
    close.title = "End this session";
    close.setAttribute("aria-label", `End session ${number}`);
    close.addEventListener("click", () => actions.close(number));
    item.append(select, close);
    return item;
  });
  const add = document.createElement("button");
  add.className = "tab-add";
  add.textContent = "+";
  add.title = "New session";
  add.setAttribute("aria-label", "New session");
  add.addEventListener("click", () => actions.add());
  bar.replaceChildren(...buttons, add);
}
