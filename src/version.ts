import packageJson from "../package.json" with { type: "json" };

/** Stamped by build.ts with `--define`; absent when running from source. */
declare const BUNKER_BUILD_COMMIT: string | undefined;

/** bunker's version, from package.json. */
export const VERSION: string = packageJson.version;
/** The git commit the binary was built from, or "source" when run from the source tree. */
export const COMMIT: string = typeof BUNKER_BUILD_COMMIT === "string" ? BUNKER_BUILD_COMMIT : "source";
