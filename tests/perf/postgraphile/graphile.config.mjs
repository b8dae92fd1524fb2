// PostGraphile v5 as tests/perf/compare.py runs it. A template: postgraphile_server.py
// replaces the __NAMES__ and writes the result beside node_modules in the cache directory
// (so that "postgraphile/..." resolves). As in ../shared/bench: the Amber preset, lists
// and connections, no mutations, no GraphiQL, no watch, no explain, a pool of 10.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: __CONNECTION_STRING__,
      schemas: ["public"],
      poolConfig: { max: __POOL_MAX__ },
    }),
  ],
  schema: {
    pgForbidSetofFunctionsToReturnNull: true,
    defaultBehavior: "-insert -update -delete +connection +list",
  },
  grafserv: {
    host: "127.0.0.1",
    port: __PORT__,
    graphiql: false,
    graphqlOverGET: false,
    watch: false,
  },
  grafast: { explain: false },
};
