import { greet } from "./greet.js";

export var version = "<VERSION>";
export function hello(who) {
  return greet(who) + " from " + version;
}
