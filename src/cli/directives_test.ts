import assert from "node:assert/strict";
import { parseDirectives, splitWords } from "./directives.ts";

const script = (text: string) => new TextEncoder().encode(text);

Deno.test("parseDirectives: #SJQ lines after the #! line, among comments and blank lines", () => {
  const text =
    "#!/bin/sh\n#SJQ -p 4\n\n# a comment\n  #SJQ --name x\n#SJQX -p 9\necho hi\n#SJQ -p 8\n";
  assert.deepEqual(parseDirectives(script(text)), [
    { line: 2, words: ["-p", "4"] },
    { line: 5, words: ["--name", "x"] },
  ]);
});

Deno.test("parseDirectives: a script without #! line; none at all; an empty directive", () => {
  assert.deepEqual(parseDirectives(script("#SJQ --hold\nexit 0\n")), [{
    line: 1,
    words: ["--hold"],
  }]);
  assert.deepEqual(parseDirectives(script("echo hi\n#SJQ -p 2\n")), []);
  assert.deepEqual(parseDirectives(script("#!/bin/sh\n#SJQ\n")), [{ line: 2, words: [] }]);
});

Deno.test("parseDirectives: an unterminated quote names the line", () => {
  assert.throws(() => parseDirectives(script("#!/bin/sh\n\n#SJQ -n 'open\n")), {
    name: "SyntaxError",
    message: /^line 3: .*unterminated ' quote/,
  });
});

Deno.test("splitWords: quotes, escapes and comments as in sh, without expansions", () => {
  assert.deepEqual(splitWords(""), []);
  assert.deepEqual(splitWords("  a   b  "), ["a", "b"]);
  assert.deepEqual(splitWords(`'a b' "c \\"d\\" \\$e" f\\ g`), ["a b", 'c "d" $e', "f g"]);
  assert.deepEqual(splitWords(`x'y'"z" '' "$HOME"`), ["xyz", "", "$HOME"]);
  assert.deepEqual(splitWords("a#b # rest ignored 'even quotes"), ["a#b"]);
  assert.throws(() => splitWords(`"open`), SyntaxError);
  assert.throws(() => splitWords("trailing\\"), SyntaxError);
});
