// facesign console: one page over the GraphQL API at /graphql, with the token
// the user logs in with. No build step and no framework; the DOM is built with
// `h()` (text nodes only, never innerHTML), so data from the read models cannot
// become markup. Times are shown in Asia/Shanghai (UTC+8 all year), as the bank
// works, whatever the browser's own time zone.

import { banner } from "./dom.js";
import { start } from "./router.js";

start().catch((error) => banner(`${error.message}`));
