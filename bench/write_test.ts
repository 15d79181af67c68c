import assert from "node:assert/strict";
import { BEGIN, END, replaceSection } from "./write.ts";

Deno.test("replaceSection() replaces only the text between the markers", () => {
  const doc = `# Title\n\nMethod.\n\n${BEGIN}\nold table\n${END}\n\nAfter.\n`;
  assert.equal(
    replaceSection(doc, "new table\n"),
    `# Title\n\nMethod.\n\n${BEGIN}\nnew table\n${END}\n\nAfter.\n`,
  );
});

Deno.test("replaceSection() refuses a document without the markers", () => {
  assert.throws(() => replaceSection("# Title\n", "x"), SyntaxError);
});
