/**
 * undici's Agent module on its own. The package's entry point loads all of undici (fetch,
 * WebSocket, caches, mocks): about 200 ms of CPU in every thread that imports it, against about
 * 50 ms for the dispatcher alone. The package has no `exports` map, so the module path is public;
 * the version is pinned in package.json, and every Graph test fails at once if it moves.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
