/**
 * The command-line option parsing zkCli.sh's commands use: Apache commons-cli 1.4's
 * DefaultParser, as far as ZooKeeperMain's commands exercise it (short options, options
 * with one value, bundled flags "-sw", "-t100", "-v=3", negative numbers as values, "--",
 * one option group, and the exceptions with their messages).
 */

export interface OptionSpec {
  /** The option's name without the hyphen: 's', 'v', 'file'. */
  readonly name: string;
  readonly hasArg: boolean;
  readonly description: string;
}

export interface OptionGroupSpec {
  /** Names of the options in the group, in the order they were added. */
  readonly names: readonly string[];
  readonly required: boolean;
}

/** commons-cli's ParseException subclasses, by simple class name. */
export class CliParseError extends Error {
  constructor(
    readonly className: string,
    message: string,
  ) {
    super(message);
  }

  /** Throwable.toString(), which CliParseException(ParseException) carries as its message. */
  override toString(): string {
    return `org.apache.commons.cli.${this.className}: ${this.message}`;
  }
}

export interface ParsedLine {
  /** The non-option arguments (the command name first). */
  readonly args: string[];
  has(name: string): boolean;
  /** The option's first value, or undefined. */
  value(name: string): string | undefined;
}

function isNegativeNumber(token: string): boolean {
  // Double.parseDouble accepts more, but this is what a value such as "-1" needs
  return /^-\d+(\.\d*)?([eE][+-]?\d+)?[dDfF]?$/.test(token) || /^-\.\d+$/.test(token);
}

/** DefaultParser.parse(options, arguments) with stopAtNonOption false. */
export function parseOptions(specs: readonly OptionSpec[], tokens: readonly string[], group?: OptionGroupSpec): ParsedLine {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string[]>();
  const args: string[] = [];
  let current: { spec: OptionSpec; values: string[] } | null = null;
  let selected: string | null = null;
  // read through a function: assignments in the closures below escape flow analysis
  const currentOption = (): { spec: OptionSpec; values: string[] } | null => current;
  let skipParsing = false;

  const hasShort = (name: string): boolean => byName.has(name);
  const isShortOption = (token: string): boolean => {
    if (!token.startsWith('-') || token.length === 1) return false;
    const pos = token.indexOf('=');
    const optName = pos === -1 ? token.slice(1) : token.slice(1, pos);
    if (hasShort(optName)) return true;
    return optName.length > 0 && hasShort(optName.charAt(0));
  };
  const isArgument = (token: string): boolean => !isShortOption(token) || isNegativeNumber(token);
  const acceptsArg = (c: { spec: OptionSpec; values: string[] }): boolean => c.spec.hasArg && c.values.length < 1;
  const checkRequiredArgs = (): void => {
    if (current !== null && current.spec.hasArg && current.values.length === 0) {
      throw new CliParseError('MissingArgumentException', `Missing argument for option: ${current.spec.name}`);
    }
  };
  const handleOption = (spec: OptionSpec): void => {
    checkRequiredArgs();
    if (group !== undefined && group.names.includes(spec.name)) {
      if (selected !== null && selected !== spec.name) {
        throw new CliParseError(
          'AlreadySelectedException',
          `The option '${spec.name}' was specified but an option from this group has already been selected: '${selected}'`,
        );
      }
      selected = spec.name;
    }
    let list = values.get(spec.name);
    if (list === undefined) {
      list = [];
      values.set(spec.name, list);
    }
    // each occurrence is its own Option; getOptionValue answers the first one's value
    const occurrence = { spec, values: [] as string[] };
    occurrenceLists.push({ name: spec.name, occurrence });
    current = spec.hasArg ? occurrence : null;
  };
  const occurrenceLists: { name: string; occurrence: { spec: OptionSpec; values: string[] } }[] = [];
  const handleUnknownToken = (token: string): void => {
    if (token.startsWith('-') && token.length > 1) {
      throw new CliParseError('UnrecognizedOptionException', `Unrecognized option: ${token}`);
    }
    args.push(token);
  };
  const handleConcatenatedOptions = (token: string): void => {
    for (let i = 1; i < token.length; i++) {
      const ch = token.charAt(i);
      const spec = byName.get(ch);
      if (spec === undefined) {
        handleUnknownToken(token);
        break;
      }
      handleOption(spec);
      if (current !== null && token.length !== i + 1) {
        current.values.push(token.slice(i + 1));
        break;
      }
    }
  };
  const handleShortOption = (token: string): void => {
    const t = token.slice(1);
    const pos = t.indexOf('=');
    if (t.length === 1) {
      const spec = byName.get(t);
      if (spec !== undefined) handleOption(spec);
      else handleUnknownToken(token);
    } else if (pos === -1) {
      const spec = byName.get(t);
      if (spec !== undefined) handleOption(spec);
      else handleConcatenatedOptions(token);
    } else {
      const name = t.slice(0, pos);
      const value = t.slice(pos + 1);
      const spec = byName.get(name);
      if (name.length === 1 && spec !== undefined && spec.hasArg) {
        handleOption(spec);
        currentOption()?.values.push(value);
        current = null;
      } else {
        handleUnknownToken(token);
      }
    }
  };

  for (const token of tokens) {
    if (skipParsing) {
      args.push(token);
    } else if (token === '--') {
      skipParsing = true;
    } else if (currentOption() !== null && acceptsArg(currentOption()!) && isArgument(token)) {
      currentOption()!.values.push(token);
    } else if (token.startsWith('--')) {
      handleUnknownToken(token);
    } else if (token.startsWith('-') && token !== '-') {
      handleShortOption(token);
    } else {
      handleUnknownToken(token);
    }
    const c = currentOption();
    if (c !== null && !acceptsArg(c)) current = null;
  }
  checkRequiredArgs();
  if (group !== undefined && group.required && selected === null) {
    const names = group.names.map((n) => `-${n} ${byName.get(n)?.description ?? ''}`);
    throw new CliParseError('MissingOptionException', `Missing required option: [${names.join(', ')}]`);
  }
  for (const { name, occurrence } of occurrenceLists) values.get(name)?.push(...occurrence.values);
  return {
    args,
    has: (name) => values.has(name),
    value: (name) => values.get(name)?.[0],
  };
}

export const ARGS_PATTERN = /\s*([^"']\S*|"[^"]*"|'[^']*')\s*/g;
const QUOTED_PATTERN = /^(['"])(.*)(\1)$/s;

/** MyCommandOptions.parseCommand: split a line into words, quotes stripped; [] for none. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(ARGS_PATTERN)) {
    let value = m[1] ?? '';
    if (QUOTED_PATTERN.test(value)) value = value.slice(1, -1);
    out.push(value);
  }
  return out;
}
