/**
 * JSON as the AdminServer's JsonOutputter writes it: Jackson's ObjectMapper with
 * INDENT_OUTPUT (DefaultPrettyPrinter), so that our answers look like ZooKeeper's
 * byte for byte where the values agree:
 *
 *   {
 *     "key" : "value",
 *     "list" : [ 1, 2 ],
 *     "objects" : [ {
 *       "a" : 1
 *     } ],
 *     "empty" : { }
 *   }
 *
 * Objects indent two spaces per level; arrays stay on one line ("[ a, b ]") and do not
 * add a level. Java longs may exceed 2^53 (session ids): pass them as bigint. Java
 * doubles are JavaDouble, printed as Double.toString ("0.0").
 */
import { JavaDouble } from '../metrics/server-metrics.js';

/** A value the writer can print. Maps keep their order; keys print as strings. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JavaDouble
  | readonly JsonValue[]
  | ReadonlyMap<string | number | bigint, JsonValue>
  | { readonly [key: string]: JsonValue };

export function toJacksonJson(value: JsonValue): string {
  return write(value, 0);
}

function write(v: JsonValue, level: number): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'number':
      // Java ints and longs (doubles come as JavaDouble).
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'string':
      return JSON.stringify(v);
    default:
      break;
  }
  if (v instanceof JavaDouble) return v.toString();
  if (Array.isArray(v)) {
    const items = v as readonly JsonValue[];
    if (items.length === 0) return '[ ]';
    return `[ ${items.map((x) => write(x, level)).join(', ')} ]`;
  }
  const entries: Array<[string, JsonValue]> =
    v instanceof Map ? [...(v as ReadonlyMap<string | number | bigint, JsonValue>)].map(([k, x]) => [String(k), x]) : Object.entries(v as { readonly [key: string]: JsonValue });
  if (entries.length === 0) return '{ }';
  const pad = '  '.repeat(level + 1);
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)} : ${write(x, level + 1)}`).join(',\n')}\n${'  '.repeat(level)}}`;
}
