import { startTabsPage } from "./tabs-page.ts";
import { startViewerPage } from "./viewer-page.ts";
import { takeViewRequest } from "./view-link.ts";

// A read-only link (`#view=`) opens the viewer; anything else, the page of tabs.
const view = takeViewRequest({ location, history, storage: sessionStorage });
if (view) startViewerPage(view);
else startTabsPage();
