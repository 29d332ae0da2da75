/**
 * Golden vectors, one or more per numbered rule of
 * /work/shared/reference/env-dialect-rules.md (compose = compose-go GetEnvFromFile,
 * dotenv = npm dotenv classic parse, raw = docker run --env-file).
 */
import type { Dialect } from '../../app/config/schema.js';

export interface Vector {
  rule: string;
  dialect: Dialect;
  input: string;
  env?: Record<string, string>;
  expected?: Record<string, string>;
  /** Exact error message (compose's own text for compose). */
  error?: string;
  line?: number;
}

/** A made-up bcrypt-shaped hash (not a real credential). */
export const FAKE_HASH = '$2b$12$abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234';

export const vectors: Vector[] = [
  // 1.0 lookup order: the environment first, then keys already parsed
  { rule: '1.0', dialect: 'compose', input: 'A=1\nB=$A', expected: { A: '1', B: '1' } },
  { rule: '1.0', dialect: 'compose', input: 'A=1\nB=$A', env: { A: 'env' }, expected: { A: '1', B: 'env' } },
  { rule: '1.0', dialect: 'compose', input: 'B=${LATER}\nLATER=x', expected: { B: '', LATER: 'x' } },
  { rule: '1.0', dialect: 'compose', input: '456=ABC', expected: { '456': 'ABC' } },
  // 1.1 BOM
  { rule: '1.1', dialect: 'compose', input: '\uFEFFA=1', expected: { A: '1' } },
  { rule: '1.1', dialect: 'compose', input: 'A=1\n\uFEFFB=2', error: 'line 2: unexpected character "\\ufeff" in variable name "\\ufeffB=2"', line: 2 },
  // 1.2 statement loop: text after a closing quote starts the next statement
  { rule: '1.2', dialect: 'compose', input: 'FOO="bar" # c', expected: { FOO: 'bar' } },
  { rule: '1.2', dialect: 'compose', input: 'FOO="bar"#c', expected: { FOO: 'bar' } },
  { rule: '1.2', dialect: 'compose', input: 'FOO="bar"baz=qux', expected: { FOO: 'bar', baz: 'qux' } },
  { rule: '1.2', dialect: 'compose', input: 'FOO="bar" baz', expected: { FOO: 'bar', '': 'baz' } },
  { rule: '1.2', dialect: 'compose', input: 'FOO="a" x # c', error: 'line 1: unexpected character "#" in variable name "x # c"', line: 1 },
  // 1.3 export
  { rule: '1.3', dialect: 'compose', input: 'export FOO=1\nexport\tBAR=2', expected: { FOO: '1', BAR: '2' } },
  { rule: '1.3', dialect: 'compose', input: 'exportFOO=2\nexport_FOO =2\nexport.FOO= 2\nexport=1', expected: { exportFOO: '2', export_FOO: '2', 'export.FOO': '2', export: '1' } },
  { rule: '1.3', dialect: 'compose', input: 'export\nFOO=bar', expected: { FOO: 'bar' } },
  { rule: '1.3', dialect: 'compose', input: 'A=1\nexport  ', error: 'zero length string' },
  // 1.3 key characters, separators, cleanup
  { rule: '1.3', dialect: 'compose', input: 'lol$wut', error: 'line 1: unexpected character "$" in variable name "lol$wut"', line: 1 },
  { rule: '1.3', dialect: 'compose', input: '%!(EXTRA string)=foo', error: 'line 1: unexpected character "%" in variable name "%!(EXTRA string)=foo"' },
  { rule: '1.3', dialect: 'compose', input: 'a.b-c[0]=1\n²=2\nárvíztűrő-TÜKÖRFÚRÓGÉP=3', expected: { 'a.b-c[0]': '1', '²': '2', 'árvíztűrő-TÜKÖRFÚRÓGÉP': '3' } },
  { rule: '1.3', dialect: 'compose', input: 'FOO:bar\nOPTION_A: Foo=bar\nA:B=C', expected: { FOO: 'bar', OPTION_A: 'Foo=bar', A: 'B=C' } },
  { rule: '1.3', dialect: 'compose', input: 'A=1\n\nINVALID LINE=x', error: 'line 3: key cannot contain a space', line: 3 },
  { rule: '1.3', dialect: 'compose', input: 'A\tB=1\nC  =2', expected: { 'A\tB': '1', C: '2' } },
  { rule: '1.3', dialect: 'compose', input: 'A=1\nFOO', expected: { A: '1', '': 'FOO' } },
  { rule: '1.3', dialect: 'compose', input: '="value"\nFOO=\nBAR=x', expected: { '': 'value', FOO: '', BAR: 'x' } },
  // 1.4 inherit lines
  { rule: '1.4', dialect: 'compose', input: 'HOME_X\nexport EMPTY\r\nNOPE\n', env: { HOME_X: '/h', EMPTY: '' }, expected: { HOME_X: '/h', EMPTY: '' } },
  { rule: '1.4', dialect: 'compose', input: 'A=1\nA\n', expected: { A: '1' } },
  // 1.5 unquoted values
  { rule: '1.5', dialect: 'compose', input: 'FOO=bar #c\nB=123#x\nC=bar\t# c\nD= # comment\nE=#x', expected: { FOO: 'bar', B: '123#x', C: 'bar\t# c', D: '# comment', E: '#x' } },
  { rule: '1.5', dialect: 'compose', input: 'FOO=a\\tb\nB=a"b"\nC=`bar`\nD=x\\\nE=\\$BAR', env: { BAR: 'v' }, expected: { FOO: 'a\\tb', B: 'a"b"', C: '`bar`', D: 'x\\', E: '\\v' } },
  { rule: '1.5', dialect: 'compose', input: 'FOO=${X:-a #b}', error: 'Invalid template: "${X:-a"', line: 1 },
  { rule: '1.5', dialect: 'compose', input: 'A=x #\nB=$A #\n', env: { A: 'y #' }, expected: { A: 'x', B: 'y #' } },
  { rule: '1.5', dialect: 'compose', input: 'FOO=\nB=   \nC = \n', expected: { FOO: '', B: '', C: '' } },
  // 1.6 single quotes
  { rule: '1.6', dialect: 'compose', input: "A='Let\\'s go!'\nB='\\n'\nC='a\\\\b'\nD='a\\\\'", expected: { A: "Let's go!", B: '\\n', C: 'a\\\\b', D: 'a\\\\' } },
  { rule: '1.6', dialect: 'compose', input: "A='$FOO ${X} $$'\nB='x\r\ny'", env: { FOO: 'no' }, expected: { A: '$FOO ${X} $$', B: 'x\r\ny' } },
  { rule: '1.6', dialect: 'compose', input: "A=1\nB='x\ny", error: "line 3: unterminated quoted value 'x", line: 3 },
  { rule: '1.6', dialect: 'compose', input: 'A=1\nB="x\ny', error: 'line 3: unterminated quoted value "x', line: 3 },
  // 1.7 double quotes: escapes, octal, then interpolation
  { rule: '1.7', dialect: 'compose', input: 'A="\\a\\b\\f\\n\\r\\t\\v\\\\\\""', expected: { A: '\x07\b\f\n\r\t\v\\"' } },
  { rule: '1.7', dialect: 'compose', input: 'A="\\0123"\nB="\\0101\\0102"\nC="\\0377"\nD="\\00411"', expected: { A: 'S', B: 'AB', C: 'ÿ', D: '!1' } },
  { rule: '1.7', dialect: 'compose', input: 'A="\\0"\nB="\\01"\nC="\\09"\nD="\\0400"\nE="\\0999"', expected: { A: '\\', B: '\\1', C: '\\9', D: '\\400', E: '\\999' } },
  { rule: '1.7', dialect: 'compose', input: 'A="\\c \\x07 \\u12e4 \\e \\\' \\ "', expected: { A: "\\c \\x07 \\u12e4 \\e \\' \\ " } },
  { rule: '1.7', dialect: 'compose', input: 'A="\\\\$BAR"\nB="\\0044BAR"\nC="\\$BAR"\nD="$$BAR"', env: { BAR: 'v' }, expected: { A: '\\v', B: 'v', C: '$BAR', D: '$BAR' } },
  { rule: '1.7', dialect: 'compose', input: 'A="  x  "\nB="bar#baz"\nC="it\'s `x`"', expected: { A: '  x  ', B: 'bar#baz', C: "it's `x`" } },
  // 1.8 CRLF
  { rule: '1.8', dialect: 'compose', input: 'A=1\r\nB="x\r\ny"\r\nC\r\n', env: { C: 'c' }, expected: { A: '1', B: 'x\r\ny', C: 'c' } },
  { rule: '1.8', dialect: 'compose', input: 'A=1\rB=2', expected: { A: '1\rB=2' } },
  // 1.9 comments
  { rule: '1.9', dialect: 'compose', input: '# top\n  # indented\nA=1 # c\nB="2" # c\n#last', expected: { A: '1', B: '2' } },
  // 1.10 duplicates and ordering
  { rule: '1.10', dialect: 'compose', input: 'A=1\nA=2\nB=$A', expected: { A: '2', B: '2' } },
  { rule: '1.10', dialect: 'compose', input: 'OPTION_A=1\nOPTION_B=${OPTION_A}', env: { OPTION_A: '5' }, expected: { OPTION_A: '1', OPTION_B: '5' } },
  { rule: '1.10', dialect: 'compose', input: 'A=${A:-default}', expected: { A: 'default' } },
  { rule: '1.10', dialect: 'compose', input: 'A=${A:-default}', env: { A: 'env' }, expected: { A: 'env' } },
  // 1.11 line numbers count LFs inside quotes and comments
  { rule: '1.11', dialect: 'compose', input: '# c\nA="x\ny"\n\nB=1\nbad key=2', error: 'line 6: key cannot contain a space', line: 6 },
  { rule: '1.11', dialect: 'compose', input: "A='1\n2\n3'\nB=${", error: 'Invalid template: "${"', line: 4 },
  // Upstream fixture files (compose-go dotenv/fixtures: plain.env, quoted.env, substitutions-default.env)
  { rule: '1.5', dialect: 'compose', input: 'OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\nOPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n', expected: { OPTION_A: '1', OPTION_B: '2', OPTION_C: '3', OPTION_D: '4', OPTION_E: '5', OPTION_F: '', OPTION_G: '', OPTION_H: 'my string' } },
  {
    rule: '1.6',
    dialect: 'compose',
    input: "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\nOPTION_I = \"echo 'asd'\"\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\nOPTION_Z = \"last value\"\n",
    expected: { OPTION_A: '1', OPTION_B: '2', OPTION_C: '', OPTION_D: '\\n', OPTION_E: '1', OPTION_F: '2', OPTION_G: '', OPTION_H: '\n', OPTION_I: "echo 'asd'", OPTION_J: 'first line\nsecond line\nthird line\nand so on', OPTION_Z: 'last value' },
  },
  { rule: '2.3', dialect: 'compose', input: 'OPTION_A=${OPTION_A:-1}\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n', expected: { OPTION_A: '1', OPTION_B: '1', OPTION_C: '1', OPTION_D: '1_1', OPTION_E: '' } },
  // 2.2 recognising $
  { rule: '2.2', dialect: 'compose', input: 'A=$${foo}\nB=$$$X\nC=$BAR_baz-x\nD=$FOO-bar', env: { X: 'x', BAR_baz: 'b', FOO: 'f' }, expected: { A: '${foo}', B: '$x', C: 'b-x', D: 'f-bar' } },
  { rule: '2.2', dialect: 'compose', input: 'A=$1\nB=a $ string\nC=^REGEX$\nD=$}\nE=$\nF=$é', expected: { A: '$1', B: 'a $ string', C: '^REGEX$', D: '$}', E: '$', F: '$é' } },
  { rule: '2.2', dialect: 'compose', input: 'A=$X:-y\nB=${UNSET}x\nC=$\u017Fx', env: { X: 'x', '\u017Fx': 'long-s' }, expected: { A: 'x:-y', B: 'x', C: 'long-s' } },
  { rule: '2.2', dialect: 'compose', input: 'X=$Y\nZ=$X', env: { Y: '$W' }, expected: { X: '$W', Z: '$W' } },
  ...['${', '${}', '${ }', '${ foo}', '${foo }', '${foo!}', '${A.B}', '${1FOO}', '${A:-x'].map(
    (t): Vector => ({ rule: '2.2', dialect: 'compose', input: `RESULT=${t}`, error: `Invalid template: ${JSON.stringify(t)}`, line: 1 }),
  ),
  // 2.2 the bcrypt trap
  { rule: '2.2', dialect: 'compose', input: `H=${FAKE_HASH}`, expected: { H: '$2b$12.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234' } },
  { rule: '2.2', dialect: 'compose', input: `H="${FAKE_HASH}"`, expected: { H: '$2b$12.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234' } },
  { rule: '2.2', dialect: 'compose', input: `H='${FAKE_HASH}'`, expected: { H: FAKE_HASH } },
  { rule: '2.2', dialect: 'compose', input: `H=${FAKE_HASH.replace(/\$/g, '$$$$')}`, expected: { H: FAKE_HASH } },
  { rule: '2.2', dialect: 'compose', input: `H="${FAKE_HASH.replace(/\$/g, '\\$')}"`, expected: { H: FAKE_HASH } },
  // 2.3 operators: set and non-empty / set but empty / unset
  ...([
    [':-', 'v', 'w', 'w'],
    ['-', 'v', '', 'w'],
    [':+', 'w', '', ''],
    ['+', 'w', 'w', ''],
  ] as const).map(([op, set, empty, unset]): Vector => ({
    rule: '2.3',
    dialect: 'compose',
    input: `S=\${V${op}w}\nE=\${EMPTY${op}w}\nU=\${UNSET${op}w}`,
    env: { V: 'v', EMPTY: '' },
    expected: { S: set, E: empty, U: unset },
  })),
  { rule: '2.3', dialect: 'compose', input: 'S=${V:?m}\nT=${V?m}\nE=${EMPTY?m}', env: { V: 'v', EMPTY: '' }, expected: { S: 'v', T: 'v', E: '' } },
  { rule: '2.3', dialect: 'compose', input: 'A=1\nE=${EMPTY:?m}', env: { EMPTY: '' }, error: 'required variable EMPTY is missing a value: m', line: 2 },
  { rule: '2.3', dialect: 'compose', input: 'U=${UNSET?}', error: 'required variable UNSET is missing a value', line: 1 },
  { rule: '2.3', dialect: 'compose', input: 'X=${X:?must ${Y:-be} set}', error: 'required variable X is missing a value: must be set' },
  { rule: '2.3', dialect: 'compose', input: 'A=${A?${B}}\nB=${UNSET-myerror?msg}\nC=${BAR:-/non:-alphanumeric}', env: { A: 'a' }, expected: { A: 'a', B: 'myerror?msg', C: '/non:-alphanumeric' } },
  { rule: '2.3', dialect: 'compose', input: 'X=${UNSET?bar-baz}', error: 'required variable UNSET is missing a value: bar-baz' },
  { rule: '2.3', dialect: 'compose', input: 'A=${A:-${B:-${C:-deep}}}\nJ=${missing:-{"json":1}}\nK=${X:-{a}}\nL=${X:-a}}\nM=${X:-a}b}', expected: { A: 'deep', J: '{"json":1}', K: '{a}', L: 'a}', M: 'ab}' } },
  { rule: '2.3', dialect: 'compose', input: 'A="${A:-x\ny}"', error: 'Invalid template: "${A:-x\\ny}"' },
  { rule: '2.3', dialect: 'compose', input: 'A=${X:-${}}', error: 'Invalid template: "${}"' },
  { rule: '2.3', dialect: 'compose', input: 'A=${X:-ok}${}', error: 'Invalid template: "${}"' },
  { rule: '2.3', dialect: 'compose', input: 'A=${X:-ok}${', error: 'Invalid template: "${X:-ok}${"' },

  // Part 3: npm dotenv classic parse
  { rule: '3.1', dialect: 'dotenv', input: 'A=1\r\nB="x\r\ny"\rC=3', expected: { A: '1', B: 'x\ny', C: '3' } },
  { rule: '3.1', dialect: 'dotenv', input: '\uFEFFA=1\n\uFEFFB=2', expected: { A: '1', B: '2' } },
  { rule: '3.2', dialect: 'dotenv', input: 'export A=1\nexportK=2\nexport=3\n\n\n  C = 4', expected: { A: '1', exportK: '2', export: '3', C: '4' } },
  { rule: '3.2', dialect: 'dotenv', input: 'ÁB=1\nA[0]=2\nA B=3\n=4\nOK=5', expected: { OK: '5' } },
  { rule: '3.2', dialect: 'dotenv', input: 'K: v\nKEY:value\nKEY2 : value\nL:  w', expected: { K: 'v', L: 'w' } },
  { rule: '3.2', dialect: 'dotenv', input: "A='x' # c\nB=\"y\"#c\nC=`z`", expected: { A: 'x', B: 'y', C: 'z' } },
  { rule: '3.3', dialect: 'dotenv', input: 'A=  padded  \nB=\u00A0nb\u00A0\nC=', expected: { A: 'padded', B: 'nb', C: '' } },
  { rule: '3.3', dialect: 'dotenv', input: 'A="a\\nb\\rc\\t\\"\\\\n"\nB=\'a\\nb\'', expected: { A: 'a\nb\rc\\t\\"\\\n', B: 'a\\nb' } },
  { rule: '3.3', dialect: 'dotenv', input: "A='Let\\'s go!'\nB=`it's`", expected: { A: "Let\\'s go!", B: "it's" } },
  { rule: '3.4', dialect: 'dotenv', input: 'FOO=bar#baz\nK= # c\nJ={"foo": "bar"}', expected: { FOO: 'bar', K: '', J: '{"foo": "bar"}' } },
  { rule: '3.4', dialect: 'dotenv', input: 'A="  x  "\nB=\'l1\nl2\'', expected: { A: '  x  ', B: 'l1\nl2' } },
  { rule: '3.4', dialect: 'dotenv', input: 'K="unterminated\nL=1', expected: { K: '"unterminated', L: '1' } },
  { rule: '3.4', dialect: 'dotenv', input: "K=\"bar\" baz\nL='a' 'b'\nM='it's'", expected: { K: '"bar" baz', L: "a' 'b", M: "it's" } },
  { rule: '3.4', dialect: 'dotenv', input: 'BARE\nlol$wut\nA=1\nA=2', expected: { A: '2' } },
  { rule: '3.4', dialect: 'dotenv', input: `H=${FAKE_HASH}\nD=$$x`, expected: { H: FAKE_HASH, D: '$$x' } },
  { rule: '3.4', dialect: 'dotenv', input: 'EMPTY=\n"next"\nKEY:\nnextline\nK\n=joined', expected: { EMPTY: 'next', KEY: 'nextline', K: 'joined' } },

  // raw: docker run --env-file
  { rule: 'raw', dialect: 'raw', input: `H=${FAKE_HASH}\nQ='quoted'\nS="d" # not a comment\n  # comment\n\nT=  spaced  `, expected: { H: FAKE_HASH, Q: "'quoted'", S: '"d" # not a comment', T: '  spaced  ' } },
  { rule: 'raw', dialect: 'raw', input: 'A=1\r\nINHERIT\r\nMISSING\nB=$A', env: { INHERIT: 'i' }, expected: { A: '1', INHERIT: 'i', B: '$A' } },
  { rule: 'raw', dialect: 'raw', input: '\uFEFFA=x=y\nB=', expected: { A: 'x=y', B: '' } },
  // docker's own messages quote the line (`variable 'export B' contains whitespaces`); ours never do, it may be a secret.
  { rule: 'raw', dialect: 'raw', input: 'A=1\nexport B=2', error: 'line 2: the variable name contains whitespace (column 7); docker refuses the file', line: 2 },
  { rule: 'raw', dialect: 'raw', input: 'A=1\n\n=2', error: 'line 3: no variable name before the "="; docker refuses the file', line: 3 },
  { rule: 'raw', dialect: 'raw', input: 'A=1\nmy secret words\n', error: 'line 2: this line has no "=" and contains whitespace, so docker takes the whole line as a variable name (column 3); docker refuses the file', line: 2 },
];
