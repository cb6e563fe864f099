// Set by the bundler from package.json; "dev" when run from source (tests).
declare const __SPROUT_VERSION__: string | undefined;
export const VERSION: string = typeof __SPROUT_VERSION__ === "string" ? __SPROUT_VERSION__ : "dev";
