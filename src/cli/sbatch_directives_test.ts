import assert from "node:assert/strict";
import { parseSbatchDirectives, slurmTime } from "./sbatch_directives.ts";

const parse = (text: string) => parseSbatchDirectives(new TextEncoder().encode(text), "job.sh");

Deno.test("#SBATCH: CPUs, tasks, memory, name, output, chdir, time, hold", () => {
  const d = parse(
    "#!/bin/bash\n#SBATCH -c 2 --ntasks=3\n#SBATCH --mem=1500 -J align\n#SBATCH -o out/%x-%j.log\n" +
      "#SBATCH -D /tmp --time=1:30 -H\necho hi\n#SBATCH -c 9\n",
  );
  assert.deepEqual(d.values, {
    procs: "6",
    mem: "1500M",
    name: "align",
    stdout: "out/%x-%j.log",
    stderr: "out/%x-%j.log",
    cwd: "/tmp",
    timeout: "90",
    hold: true,
  });
  assert.deepEqual(d.warnings, []);
  assert.deepEqual(d.slurmOptions, []);
});

Deno.test("#SBATCH: short options glued to their value, long ones with a space; the last wins", () => {
  const d = parse("#SBATCH -c4 --mem 2G -eerr.txt\n#SBATCH --cpus-per-task=8 --output o.txt\n");
  assert.deepEqual(d.values, { procs: "8", mem: "2G", stdout: "o.txt", stderr: "err.txt" });
});

Deno.test("#SBATCH --mem-per-cpu times the CPUs; --mem=0 warns; both at once is an error", () => {
  assert.equal(parse("#SBATCH -c 2 -n 2 --mem-per-cpu=1G\n").values.mem, `${4 * 2 ** 30}B`);
  assert.equal(parse("#SBATCH --mem-per-cpu=100\n").values.mem, `${100 * 2 ** 20}B`);
  const zero = parse("#SBATCH --mem=0\n");
  assert.equal(zero.values.mem, undefined);
  assert.match(zero.warnings[0]!, /job\.sh:1: .*--mem=0/);
  assert.throws(
    () => parse("#SBATCH --mem=1G\n#SBATCH --mem-per-cpu=1G\n"),
    /job\.sh:2: .*exclude/,
  );
  assert.throws(() => parse("#SBATCH --mem=12Q\n"), /job\.sh:1: bad #SBATCH --mem "12Q"/);
  assert.throws(() => parse("#SBATCH -c 0\n"), /--cpus-per-task "0"/);
});

Deno.test("#SBATCH --dependency: kinds, several ids and groups, singleton, after, +time", () => {
  const d = parse(
    "#SBATCH -d afterok:3:4,afterany:5\n#SBATCH --dependency=afternotok:6,singleton\n",
  );
  assert.deepEqual(d.values, { after: ["3:4"], afterany: ["5"], afternotok: ["6"] });
  assert.equal(d.singleton, true);
  const after = parse("#SBATCH -d after:7+5\n");
  assert.deepEqual(after.values, { afterany: ["7"] });
  assert.equal(after.warnings.length, 2);
  assert.throws(() => parse("#SBATCH -d afterok:3?afterok:4\n"), /'\?'/);
  assert.throws(() => parse("#SBATCH -d expand:3\n"), /unknown kind "expand"/);
  assert.throws(() => parse("#SBATCH -d afterok:x\n"), /KIND:ID/);
});

Deno.test("#SBATCH --export: ALL, NONE, and lists with and without ALL", () => {
  assert.deepEqual(parse("#SBATCH --export=ALL\n").values, {});
  assert.deepEqual(parse("#SBATCH --export=NONE\n").values, { "no-env": true });
  assert.deepEqual(parse("#SBATCH --export=ALL,A=1\n").values, { env: ["A=1"] });
  assert.deepEqual(parse("#SBATCH --export=PATH,B=2\n").values, {
    "no-env": true,
    env: ["PATH", "B=2"],
  });
});

Deno.test("#SBATCH: options sjq has no equivalent for are kept for Slurm, with a warning each", () => {
  const d = parse("#SBATCH -q low --qos=high\n#SBATCH --exclusive -A proj\n");
  assert.deepEqual(d.slurmOptions, ["-q", "low", "--qos=high", "--exclusive", "-A", "proj"]);
  assert.equal(d.warnings.length, 4);
  assert.match(d.warnings[0]!, /^job\.sh:1: #SBATCH -q low: no sjq equivalent/);
  assert.match(d.warnings[3]!, /^job\.sh:2: #SBATCH -A proj: /);
});

Deno.test("#SBATCH: -p and --partition name the queue (the last one wins)", () => {
  assert.deepEqual(parse("#SBATCH -p gpu\n").values, { queue: "gpu" });
  assert.deepEqual(parse("#SBATCH -pgpu --partition=io\n").values, { queue: "io" });
  assert.deepEqual(parse("#SBATCH --partition gpu\n").slurmOptions, []);
});

Deno.test("#SBATCH: bad lines name the line; a value is needed; stray words are errors", () => {
  assert.throws(() => parse("#!/bin/sh\n#SBATCH -J 'open\n"), /job\.sh: bad #SBATCH .*line 2/);
  assert.throws(() => parse("#SBATCH --time\n"), /job\.sh:1: .*--time needs a value/);
  assert.throws(() => parse("#SBATCH -c 2 stray\n"), /unexpected argument "stray"/);
  assert.throws(() => parse("#SBATCH -t 1:2:3:4\n"), /bad #SBATCH --time/);
});

Deno.test("slurmTime: every sbatch form", () => {
  assert.equal(slurmTime("5"), 300);
  assert.equal(slurmTime("5:30"), 330);
  assert.equal(slurmTime("1:00:05"), 3605);
  assert.equal(slurmTime("2-3"), 2 * 86400 + 3 * 3600);
  assert.equal(slurmTime("2-3:04"), 2 * 86400 + 3 * 3600 + 240);
  assert.equal(slurmTime("1-0:0:1"), 86401);
  assert.equal(slurmTime("UNLIMITED"), null);
  assert.equal(slurmTime("0"), null);
});

Deno.test("#SBATCH GPUs: -G, --gpus, --gpus-per-node and --gres=gpu; other gres go to Slurm", () => {
  assert.deepEqual(parse("#SBATCH -G 2\n").values, { gpus: "2" });
  assert.deepEqual(parse("#SBATCH --gpus=3\n").values, { gpus: "3" });
  assert.deepEqual(parse("#SBATCH --gpus-per-node 1\n").values, { gpus: "1" });
  assert.deepEqual(parse("#SBATCH --gres=gpu\n").values, { gpus: "1" });
  const typed = parse("#SBATCH --gres=gpu:a100:2,tmpfs:10G\n");
  assert.deepEqual(typed.values, { gpus: "2" });
  assert.deepEqual(typed.slurmOptions, ["--gres=tmpfs:10G"]);
  assert.equal(typed.warnings.length, 2);
  assert.match(typed.warnings.join("\n"), /GPU type ignored/);
  assert.match(typed.warnings.join("\n"), /--gres=tmpfs:10G: no sjq equivalent/);
  assert.deepEqual(parse("#SBATCH --gres=gpu:1\n#SBATCH --gpus=4\n").values, { gpus: "4" });
  assert.throws(() => parse("#SBATCH --gpus=many\n"), /job\.sh:1: bad #SBATCH --gpus "many"/);
});
