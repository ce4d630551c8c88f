/**
 * JAAS login configuration files (the syntax of the JDK's ConfigFile), as ZooKeeper's
 * servers and clients point to them with -Djava.security.auth.login.config=FILE:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_super="adminsecret"
 *     user_bob="bobsecret";
 *   };
 *
 * Only what the DIGEST-MD5 users need is kept: sections, their login modules and options.
 */
import { readFileSync } from 'node:fs';

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

export class JaasError extends Error {}

/** Section name -> its entries. */
export function parseJaas(text: string, file = 'JAAS file'): Map<string, JaasEntry[]> {
  const tokens = tokenize(text, file);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const next = (what: string): Token => {
    const t = tokens[i++];
    if (t === undefined) throw new JaasError(`${file}: unexpected end of file, expected ${what}`);
    return t;
  };
  const expect = (punct: string): void => {
    const t = next(`"${punct}"`);
    if (t.kind !== 'punct' || t.text !== punct) throw new JaasError(`${file} line ${t.line}: expected "${punct}", found "${t.text}"`);
  };
  const word = (what: string): Token => {
    const t = next(what);
    if (t.kind !== 'word') throw new JaasError(`${file} line ${t.line}: expected ${what}, found "${t.text}"`);
    return t;
  };
  const sections = new Map<string, JaasEntry[]>();
  while (i < tokens.length) {
    const name = word('a section name (e.g. Server)');
    expect('{');
    const entries: JaasEntry[] = [];
    for (;;) {
      const t = peek();
      if (t !== undefined && t.kind === 'punct' && t.text === '}') {
        i++;
        break;
      }
      const loginModule = word('a login module class name').text;
      const flag = word('a control flag (required, requisite, sufficient or optional)').text;
      if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag.toLowerCase())) {
        throw new JaasError(`${file}: login module ${loginModule} has control flag "${flag}"; expected required, requisite, sufficient or optional`);
      }
      const options = new Map<string, string>();
      for (;;) {
        const o = next('an option (key="value") or ";"');
        if (o.kind === 'punct' && o.text === ';') break;
        if (o.kind !== 'word') throw new JaasError(`${file} line ${o.line}: expected an option name, found "${o.text}"`);
        expect('=');
        const v = next(`the value of ${o.text}`);
        if (v.kind === 'punct') throw new JaasError(`${file} line ${v.line}: option ${o.text} has no value`);
        options.set(o.text, v.text);
      }
      entries.push({ loginModule, flag, options });
    }
    expect(';');
    sections.set(name.text, [...(sections.get(name.text) ?? []), ...entries]);
  }
  return sections;
}

interface Token {
  kind: 'word' | 'string' | 'punct';
  text: string;
  line: number;
}

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JaasError(`${file} line ${line}: unterminated /* comment`);
      line += (text.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 2;
    } else if (c === '{' || c === '}' || c === ';' || c === '=') {
      out.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let s = '';
      const start = line;
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        if (text[i] === '\n') line++;
        s += text[i++];
      }
      if (i >= text.length) throw new JaasError(`${file} line ${start}: unterminated quoted string`);
      i++;
      out.push({ kind: 'string', text: s, line: start });
    } else {
      let s = '';
      while (i < text.length && !/[\s{};="']/.test(text[i]!)) s += text[i++];
      out.push({ kind: 'word', text: s, line });
    }
  }
  return out;
}

/**
 * SaslServerCallbackHandler: the DIGEST-MD5 users of `section` (default Server), from
 * every entry's user_<name> options. Throws JaasError, with what to fix, when the file
 * cannot be read or has no such section.
 */
export function loadDigestUsers(file: string, section = 'Server'): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new JaasError(`cannot read the JAAS login configuration ${file} (java.security.auth.login.config): ${(e as Error).message}`);
  }
  const sections = parseJaas(text, file);
  const entries = sections.get(section);
  if (entries === undefined) {
    throw new JaasError(`No JAAS configuration section named '${section}' was found in '${file}'. Add a ${section} { org.apache.zookeeper.server.auth.DigestLoginModule required user_<name>="<password>"; }; section, or set zookeeper.sasl.serverconfig to the section to use`);
  }
  const users = new Map<string, string>();
  for (const e of entries) {
    for (const [k, v] of e.options) if (k.startsWith('user_')) users.set(k.slice('user_'.length), v);
  }
  return users;
}

/**
 * The Java client's DigestLoginModule credentials: the username and password options of
 * `section` (default Client, zookeeper.sasl.clientconfig). Throws JaasError, with what to
 * fix, when the file cannot be read, has no such section, or the section has no username
 * and password.
 */
export function loadClientCredentials(file: string, section = 'Client'): { username: string; password: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new JaasError(`cannot read the JAAS login configuration ${file} (java.security.auth.login.config): ${(e as Error).message}`);
  }
  const entries = parseJaas(text, file).get(section);
  if (entries === undefined) {
    throw new JaasError(`Client cannot SASL-authenticate because the JAAS configuration section '${section}' could not be found in '${file}'. Add a ${section} { org.apache.zookeeper.server.auth.DigestLoginModule required username="<user>" password="<password>"; }; section, or set zookeeper.sasl.clientconfig to the section to use`);
  }
  for (const e of entries) {
    const username = e.options.get('username');
    const password = e.options.get('password');
    if (username !== undefined && password !== undefined) return { username, password };
  }
  throw new JaasError(`the JAAS section '${section}' of '${file}' has no login module with both username="..." and password="..." options (DigestLoginModule's credentials)`);
}
