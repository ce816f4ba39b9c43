/** The page's element with this id (index.html); throws when the markup lacks it. */
export function elementById(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** localStorage, or undefined where the browser refuses it (a sandboxed frame, some privacy settings). */
export function localStorageIfAllowed(): Storage | undefined {
  try {
    return localStorage;
  } catch {
    return undefined;
  }
}

/**
 * `render`, called at most once per task however often the result is called: what it draws
 * reports changes while it is being built, and is drawn once, after the current task.
 */
export function coalesceRender(render: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      render();
    });
  };
}
