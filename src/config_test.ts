import assert from "node:assert/strict";
import { type Config, CONFIG_KEYS, ConfigError, type ConfigKey } from "./config.ts";
import { loadConfig, type LoadedConfig } from "./config_loader.ts";
import { formatConfigValue } from "./config_values.ts";

const GIB = 1024 ** 3;
const HOME = "/home/u";
const RC = "/home/u/.sjqrc";

interface Options {
  flags?: Partial<Record<ConfigKey, string>>;
  env?: Record<string, string | undefined>;
  /** File contents by path; a path not listed does not exist. */
  files?: Record<string, string>;
  cpus?: number;
}

/** Loads a configuration with HOME `/home/u`, cwd `/cwd` and 8 CPUs unless told otherwise. */
function load({ flags = {}, env = {}, files = {}, cpus = 8 }: Options = {}): LoadedConfig {
  return loadConfig({
    flags,
    env,
    home: HOME,
    cpus,
    cwd: "/cwd",
    readFile: (p) => files[p] ?? null,
  });
}

/** Loads with `text` as `~/.sjqrc`. */
function loadRc(text: string, options: Options = {}): LoadedConfig {
  return load({ ...options, files: { [RC]: text } });
}

const DEFAULTS: Config = {
  socket: "/home/u/.sjq.sock",
  logfile: null,
  daemon: false,
  pidfile: null,
  autoshutdown: true,
  schedtime: 10,
  waittime: 60,
  maxprocs: 8,
  maxmem: null,
  defaultProcs: 1,
  defaultMem: 2 * GIB,
  db: "/home/u/.sjq.db",
  keepdone: 30 * 86400,
  killgrace: 10,
  maxscript: 16 * 1024 ** 2,
  maxconnections: null,
  autostart: true,
  backend: "local",
  multiuser: false,
  userdir: "/run/sjq/u",
  minUid: 1000,
  userMaxprocs: null,
  userMaxjobs: null,
  slurmOptions: null,
  slurmPoll: 5,
  contain: true,
  gpus: [],
  defaultQueue: "default",
  queues: {},
  notify: null,
  mail: null,
  sendmail: null,
  memmargin: 256 * 1024 ** 2,
  enforce: "none",
};

/** For every key, a value as written and what it parses to (paths absolute: no base applies). */
const SAMPLES: Record<ConfigKey, [string, Config[keyof Config]]> = {
  "sjq.socket": ["/run/sjq.sock", "/run/sjq.sock"],
  "sjq.logfile": ["/var/log/sjq.log", "/var/log/sjq.log"],
  "sjq.daemon": ["yes", true],
  "sjq.pidfile": ["/run/sjq.pid", "/run/sjq.pid"],
  "sjq.autoshutdown": ["F", false],
  "sjq.schedtime": ["2.5", 2.5],
  "sjq.waittime": ["5m", 300],
  "sjq.maxprocs": ["16", 16],
  "sjq.maxmem": ["64G", 64 * GIB],
  "sjq.defaults.procs": ["2", 2],
  "sjq.defaults.mem": ["512M", 512 * 1024 ** 2],
  "sjq.db": ["/var/lib/sjq.db", "/var/lib/sjq.db"],
  "sjq.keepdone": ["1w", 7 * 86400],
  "sjq.killgrace": ["1m30s", 90],
  "sjq.maxscript": ["1M", 1024 ** 2],
  "sjq.maxconnections": ["100", 100],
  "sjq.autostart": ["off", false],
  "sjq.backend": ["Local", "local"],
  "sjq.multiuser": ["T", true],
  "sjq.userdir": ["/srv/sjq", "/srv/sjq"],
  "sjq.user.minuid": ["500", 500],
  "sjq.user.maxprocs": ["4", 4],
  "sjq.user.maxjobs": ["100", 100],
  "sjq.slurm.options": ["--partition=batch --qos=low", "--partition=batch --qos=low"],
  "sjq.slurm.poll": ["30s", 30],
  "sjq.contain": ["no", false],
  "sjq.gpus": ["0,1,GPU-8f3c", ["0", "1", "GPU-8f3c"]],
  "sjq.defaults.queue": ["Batch", "batch"],
  "sjq.notify": ["echo done", "echo done"],
  "sjq.mail": ["me@example.org", "me@example.org"],
  "sjq.sendmail": ["/usr/sbin/sendmail", "/usr/sbin/sendmail"],
  "sjq.memmargin": ["0", 0],
  "sjq.enforce": ["Memory", "memory"],
};

function flagOf(key: ConfigKey): string {
  return CONFIG_KEYS.find((row) => row.key === key)!.flag;
}

Deno.test("CONFIG_KEYS describes every Config field once, with its variable and flag", () => {
  // The queues come from sections of their own (src/queue_config.ts), not from one key.
  const fields = Object.keys(DEFAULTS).filter((field) => field !== "queues");
  assert.deepEqual(CONFIG_KEYS.map((row) => row.field).sort(), fields.sort());
  assert.deepEqual(CONFIG_KEYS.map((row) => row.key).sort(), Object.keys(SAMPLES).sort());
  for (const row of CONFIG_KEYS) {
    assert.equal(row.env, row.key.replace(/^sjq\./, "SJQ_").replaceAll(".", "_").toUpperCase());
    assert.equal(row.flag, row.key.slice(4).replace("defaults.", "default-").replace(".", "-"));
    assert.ok(row.doc.length > 0, row.key);
  }
});

Deno.test("loadConfig() without flags, environment or rc file gives the defaults", () => {
  const { config, sources, warnings, file } = load();
  assert.deepEqual(config, DEFAULTS);
  assert.ok(Object.values(sources).every((source) => source === "default"));
  assert.equal(Object.keys(sources).length, CONFIG_KEYS.length);
  assert.deepEqual(warnings, []);
  assert.equal(file, null);
});

Deno.test("loadConfig() defaults sjq.maxprocs to the CPUs passed in", () => {
  assert.equal(load({ cpus: 3 }).config.maxprocs, 3);
});

Deno.test("loadConfig() reads every key from a flag, the environment and the rc file", () => {
  for (const row of CONFIG_KEYS) {
    const [raw, expected] = SAMPLES[row.key];
    const fromFlag = load({ flags: { [row.key]: raw } });
    assert.deepEqual(fromFlag.config[row.field], expected, row.key);
    assert.equal(fromFlag.sources[row.key], "flag");
    const fromEnv = load({ env: { [row.env]: raw } });
    assert.deepEqual(fromEnv.config[row.field], expected, row.env);
    assert.equal(fromEnv.sources[row.key], `env ${row.env}`);
    const fromRc = loadRc(`# comment\n${row.key} = ${raw}\n`);
    assert.deepEqual(fromRc.config[row.field], expected, row.key);
    assert.equal(fromRc.sources[row.key], `${RC}:2`);
    assert.deepEqual({ ...fromRc.config, [row.field]: DEFAULTS[row.field] }, DEFAULTS);
  }
});

Deno.test("loadConfig() takes a flag over the environment over the rc file over the default", () => {
  for (const flag of [undefined, "5"]) {
    for (const fromEnv of [undefined, "6"]) {
      for (const rc of [undefined, "7"]) {
        const { config, sources } = load({
          flags: flag === undefined ? {} : { "sjq.maxprocs": flag },
          env: { SJQ_MAXPROCS: fromEnv },
          files: rc === undefined ? {} : { [RC]: `sjq.maxprocs=${rc}` },
        });
        const [value, source] = flag
          ? [5, "flag"]
          : fromEnv
          ? [6, "env SJQ_MAXPROCS"]
          : rc
          ? [7, `${RC}:1`]
          : [8, "default"];
        assert.equal(config.maxprocs, value, `flag ${flag}, env ${fromEnv}, rc ${rc}`);
        assert.equal(sources["sjq.maxprocs"], source);
      }
    }
  }
});

Deno.test("loadConfig() treats an empty environment variable as unset", () => {
  const { config, sources } = loadRc("sjq.maxprocs=3\nsjq.logfile=/l", {
    env: { SJQ_MAXPROCS: "", SJQ_LOGFILE: "" },
  });
  assert.equal(config.maxprocs, 3);
  assert.equal(config.logfile, "/l");
  assert.equal(sources["sjq.maxprocs"], `${RC}:1`);
});

Deno.test("loadConfig() reads an empty flag or rc value as the default", () => {
  const { config, sources } = loadRc(
    "sjq.logfile=/l\nsjq.pidfile=/p\nsjq.maxmem=4G\nsjq.maxprocs=\nsjq.waittime=\nsjq.db = ''",
    { flags: { "sjq.logfile": "", "sjq.pidfile": " " }, env: { SJQ_MAXMEM: "" } },
  );
  assert.equal(config.logfile, null);
  assert.equal(config.pidfile, null);
  assert.equal(sources["sjq.pidfile"], "flag");
  assert.equal(config.maxmem, 4 * GIB);
  assert.equal(loadRc("sjq.maxmem = # unlimited").config.maxmem, null);
  assert.equal(config.maxprocs, 8);
  assert.equal(sources["sjq.maxprocs"], `${RC}:4`);
  assert.equal(config.waittime, 60);
  assert.equal(config.db, "/home/u/.sjq.db");
});

Deno.test("loadConfig() reads every spelling of a boolean", () => {
  for (const word of ["T", "t", "true", "TRUE", "yes", "Yes", "1", "on", "ON"]) {
    assert.equal(load({ env: { SJQ_DAEMON: word } }).config.daemon, true, word);
  }
  for (const word of ["F", "f", "false", "False", "no", "NO", "0", "off", "Off"]) {
    assert.equal(load({ env: { SJQ_AUTOSTART: word } }).config.autostart, false, word);
  }
});

Deno.test("loadConfig() reads sizes and durations in every accepted form", () => {
  assert.equal(load({ env: { SJQ_MAXMEM: "2.5g" } }).config.maxmem, 2.5 * GIB);
  assert.equal(load({ env: { SJQ_MAXMEM: "2GB" } }).config.maxmem, 2 * GIB);
  assert.equal(load({ env: { SJQ_MAXSCRIPT: "65536" } }).config.maxscript, 65536);
  assert.equal(load({ env: { SJQ_WAITTIME: "1h30m" } }).config.waittime, 5400);
  assert.equal(load({ env: { SJQ_KEEPDONE: "0" } }).config.keepdone, 0);
  assert.equal(load({ env: { SJQ_KILLGRACE: "0" } }).config.killgrace, 0);
  assert.equal(load({ env: { SJQ_SCHEDTIME: "0.05" } }).config.schedtime, 0.05);
});

Deno.test("loadConfig() expands ~ in paths from every source", () => {
  const { config } = loadRc("sjq.db = ~/data/jobs.db\nsjq.logfile = ~", {
    flags: { "sjq.socket": "~/s.sock" },
    env: { SJQ_PIDFILE: "~/sjq.pid" },
  });
  assert.equal(config.socket, "/home/u/s.sock");
  assert.equal(config.pidfile, "/home/u/sjq.pid");
  assert.equal(config.db, "/home/u/data/jobs.db");
  assert.equal(config.logfile, "/home/u");
  assert.equal(load({ env: { SJQ_DB: "~other/x" } }).config.db, "/cwd/~other/x");
});

Deno.test("loadConfig() resolves relative paths against cwd or the rc file's directory", () => {
  const { config } = load({
    flags: { "sjq.socket": "run/s.sock" },
    env: { SJQ_DB: "../jobs.db", SJQ_CONFIG: "/etc/sjq/rc" },
    files: { "/etc/sjq/rc": "sjq.logfile = log/sjq.log\nsjq.pidfile = ./sjq.pid" },
  });
  assert.equal(config.socket, "/cwd/run/s.sock");
  assert.equal(config.db, "/jobs.db");
  assert.equal(config.logfile, "/etc/sjq/log/sjq.log");
  assert.equal(config.pidfile, "/etc/sjq/sjq.pid");
});

Deno.test("loadConfig() reads the rc file named by SJQ_CONFIG", () => {
  const files = { "/cwd/my.rc": "sjq.maxprocs=2", "/home/u/rc2": "sjq.maxprocs=3", [RC]: "x" };
  const relative = load({ env: { SJQ_CONFIG: "my.rc" }, files });
  assert.equal(relative.file, "/cwd/my.rc");
  assert.equal(relative.config.maxprocs, 2);
  assert.equal(relative.sources["sjq.maxprocs"], "/cwd/my.rc:1");
  assert.equal(load({ env: { SJQ_CONFIG: "~/rc2" }, files }).config.maxprocs, 3);
  assert.equal(loadRc("sjq.maxprocs=4", { env: { SJQ_CONFIG: "" } }).file, RC);
});

Deno.test("loadConfig() warns when the rc file named by SJQ_CONFIG does not exist", () => {
  const { config, warnings, file } = load({ env: { SJQ_CONFIG: "/nope" } });
  assert.deepEqual(config, DEFAULTS);
  assert.deepEqual(warnings, ['Configuration file "/nope" named by SJQ_CONFIG does not exist']);
  assert.equal(file, null);
});

Deno.test("loadConfig() reads sectioned rc files", () => {
  const { config, sources, warnings } = loadRc(
    "[sjq]\nmaxprocs = 4\nmaxmem: 16G\n\n[sjq.defaults]\nmem = 1G\nprocs = 2\n",
  );
  assert.deepEqual(warnings, []);
  assert.equal(config.maxprocs, 4);
  assert.equal(config.maxmem, 16 * GIB);
  assert.equal(config.defaultMem, GIB);
  assert.equal(config.defaultProcs, 2);
  assert.equal(sources["sjq.defaults.procs"], `${RC}:7`);
});

Deno.test("loadConfig() takes the last of repeated rc keys and strips quotes", () => {
  const { config, sources } = loadRc("sjq.maxprocs=2\nSJQ.MaxProcs = 3\nsjq.socket = '/a b'");
  assert.equal(config.maxprocs, 3);
  assert.equal(sources["sjq.maxprocs"], `${RC}:2`);
  assert.equal(config.socket, "/a b");
});

Deno.test("loadConfig() warns about unknown rc keys and ignores them", () => {
  const { config, warnings } = loadRc(
    "sjq.foo = 1\nmaxprocs = 2\n[sjq]\nmaxprocs = 3\ndefaults = 4\n[other]\nsjq.db = /x",
  );
  assert.deepEqual(config, { ...DEFAULTS, maxprocs: 3 });
  assert.deepEqual(warnings, [
    `Unknown configuration key "sjq.foo" in ${RC}:1 (ignored)`,
    `Unknown configuration key "maxprocs" in ${RC}:2 (ignored)`,
    `Unknown configuration key "sjq.defaults" in ${RC}:5 (ignored)`,
    `Unknown configuration key "other.sjq.db" in ${RC}:7 (ignored)`,
  ]);
});

Deno.test("loadConfig() rejects bad values, naming value, key and source", () => {
  assert.throws(() => loadRc("\n\nsjq.maxprocs = abc"), {
    name: "ConfigError",
    message: `Invalid value "abc" for sjq.maxprocs in ${RC}:3: expected a whole number ≥ 1`,
  });
  assert.throws(() => load({ env: { SJQ_MAXPROCS: "0" } }), {
    name: "ConfigError",
    message:
      'Invalid value "0" for sjq.maxprocs in environment variable SJQ_MAXPROCS: expected a whole number ≥ 1',
  });
  assert.throws(() => load({ flags: { "sjq.defaults.procs": "1.5" } }), {
    name: "ConfigError",
    message:
      'Invalid value "1.5" for sjq.defaults.procs in --default-procs: expected a whole number ≥ 1',
  });
});

Deno.test("loadConfig() rejects bad values of every kind", () => {
  const cases: [ConfigKey, string, string][] = [
    ["sjq.daemon", "maybe", "true or false (or yes/no, on/off, T/F, 1/0)"],
    ["sjq.maxprocs", "-1", "a whole number ≥ 1"],
    ["sjq.maxprocs", "1e3", "a whole number ≥ 1"],
    ["sjq.maxprocs", "99999999999999999999", "a whole number ≥ 1"],
    ["sjq.maxmem", "12Q", "a size such as 512M, 2G or 1.5T"],
    ["sjq.defaults.mem", "-1G", "a size such as 512M, 2G or 1.5T"],
    ["sjq.waittime", "soon", "a duration such as 90s, 15m, 2h or 1h30m"],
    ["sjq.killgrace", "-5", "a duration such as 90s, 15m, 2h or 1h30m"],
    ["sjq.schedtime", "0s", "a duration above 0"],
    ["sjq.maxscript", "0", "a size above 0"],
    ["sjq.maxmem", "0G", "a size above 0"],
    ["sjq.defaults.mem", "0", "a size above 0"],
    ["sjq.backend", "no such", "a name such as local"],
  ];
  for (const [key, raw, expected] of cases) {
    assert.throws(() => load({ flags: { [key]: raw } }), {
      name: "ConfigError",
      message: `Invalid value "${raw}" for ${key} in --${flagOf(key)}: ` +
        `expected ${expected}`,
    });
  }
});

Deno.test("loadConfig() rejects default CPUs above sjq.maxprocs", () => {
  assert.throws(() => loadRc("sjq.defaults.procs=4", { cpus: 2 }), {
    name: "ConfigError",
    message:
      `sjq.defaults.procs = 4 (from ${RC}:1) is larger than sjq.maxprocs = 2 (from the default)`,
  });
  assert.throws(() => load({ flags: { "sjq.maxprocs": "1" }, env: { SJQ_DEFAULTS_PROCS: "2" } }), {
    message: "sjq.defaults.procs = 2 (from environment variable SJQ_DEFAULTS_PROCS) is larger " +
      "than sjq.maxprocs = 1 (from --maxprocs)",
  });
  assert.equal(load({ flags: { "sjq.defaults.procs": "8" } }).config.defaultProcs, 8);
});

Deno.test("loadConfig() rejects configured default memory above sjq.maxmem", () => {
  assert.throws(() => load({ env: { SJQ_MAXMEM: "1G", SJQ_DEFAULTS_MEM: "2G" } }), {
    name: "ConfigError",
    message: "sjq.defaults.mem = 2G (from environment variable SJQ_DEFAULTS_MEM) is larger " +
      "than sjq.maxmem = 1G (from environment variable SJQ_MAXMEM)",
  });
  assert.equal(load({ env: { SJQ_MAXMEM: "1G" } }).config.defaultMem, GIB);
  assert.equal(load({ flags: { "sjq.maxprocs": "1" } }).config.defaultProcs, 1);
  assert.equal(load({ env: { SJQ_MAXMEM: "2G" } }).config.maxmem, 2 * GIB);
  assert.equal(load({ env: { SJQ_DEFAULTS_MEM: "1T" } }).config.defaultMem, 1024 * GIB);
});

Deno.test("loadConfig() turns a malformed rc file into a ConfigError naming file and line", () => {
  assert.throws(() => loadRc("sjq.maxprocs = 2\n[sjq"), {
    name: "ConfigError",
    message: `Cannot parse ${RC}:2: expected a section header such as "[sjq]", found "[sjq"`,
  });
  assert.throws(() => loadRc("maxprocs"), { message: new RegExp(`^Cannot parse ${RC}:1: `) });
});

Deno.test("loadConfig() turns an unreadable rc file into a ConfigError", () => {
  const readFile = () => {
    throw new Error("Permission denied");
  };
  assert.throws(() => loadConfig({ flags: {}, env: {}, home: HOME, cpus: 1, readFile }), {
    name: "ConfigError",
    message: `Cannot read configuration file "${RC}": Permission denied`,
  });
});

Deno.test("loadConfig() reads ~/.sjqrc from disk by default and resolves against Deno.cwd()", async () => {
  const home = await Deno.makeTempDir();
  try {
    const input = { flags: { "sjq.db": "jobs.db" }, env: {}, home, cpus: 2 };
    assert.equal(loadConfig(input).file, null);
    await Deno.writeTextFile(`${home}/.sjqrc`, "sjq.maxprocs = 1\n");
    const { config, file } = loadConfig(input);
    assert.equal(file, `${home}/.sjqrc`);
    assert.equal(config.maxprocs, 1);
    assert.equal(config.db, `${Deno.cwd()}/jobs.db`);
    await Deno.remove(`${home}/.sjqrc`);
    await Deno.mkdir(`${home}/.sjqrc`);
    assert.throws(() => loadConfig(input), { name: "ConfigError" });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("ConfigError is an Error that callers can catch by class", () => {
  const error = new ConfigError("x");
  assert.ok(error instanceof Error);
  assert.equal(error.name, "ConfigError");
});

Deno.test("the multi-user daemon's socket for this uid is the default when it exists", () => {
  const base = { flags: {}, env: {}, home: "/home/u", cpus: 4, readFile: () => null, uid: 1000 };
  const seen: string[] = [];
  const lab = loadConfig({ ...base, exists: (p) => (seen.push(p), p === "/run/sjq/u/1000.sock") });
  assert.equal(lab.config.socket, "/run/sjq/u/1000.sock");
  assert.deepEqual(seen, ["/run/sjq/u/1000.sock"]);
  const none = loadConfig({ ...base, exists: () => false });
  assert.equal(none.config.socket, "/home/u/.sjq.sock");
  const set = loadConfig({ ...base, env: { SJQ_SOCKET: "/tmp/s" }, exists: () => true });
  assert.equal(set.config.socket, "/tmp/s", "a configured socket wins");
  const dir = loadConfig({
    ...base,
    env: { SJQ_USERDIR: "/srv/q" },
    exists: (p) => p.startsWith("/srv/q/"),
  });
  assert.equal(dir.config.socket, "/srv/q/1000.sock");
});

Deno.test("sjq.gpus: a count or a list of device ids; detected only when it is set nowhere", () => {
  let detected = 0;
  const gpus = () => (detected++, ["GPU-a", "GPU-b"]);
  const load = (flags: Partial<Record<ConfigKey, string>>, env: Record<string, string> = {}) =>
    loadConfig({ flags, env, home: "/home/u", cpus: 4, gpus, readFile: () => null }).config.gpus;
  assert.deepEqual(load({ "sjq.gpus": "3" }), ["0", "1", "2"]);
  assert.deepEqual(load({ "sjq.gpus": "0" }), []);
  assert.deepEqual(load({}, { SJQ_GPUS: "1,3" }), ["1", "3"]);
  assert.deepEqual(load({ "sjq.gpus": "3," }), ["3"]);
  assert.equal(detected, 0);
  assert.deepEqual(load({}), ["GPU-a", "GPU-b"]);
  assert.equal(detected, 1);
  assert.deepEqual(
    loadConfig({ flags: {}, env: {}, home: "/", cpus: 1, readFile: () => null }).config.gpus,
    [],
    "a client detects nothing",
  );
  for (const bad of ["0,0", "a b", "-1", "1,,2"]) {
    assert.throws(() => load({ "sjq.gpus": bad }), /Invalid value .* for sjq\.gpus/, bad);
  }
  const row = CONFIG_KEYS.find((r) => r.key === "sjq.gpus")!;
  assert.equal(formatConfigValue(row, ["0", "1"]), "0,1");
  assert.equal(formatConfigValue(row, ["3"]), "3,");
  assert.equal(formatConfigValue(row, []), "0");
});

Deno.test("loadConfig() reads queue sections: limits, partition, unknown keys warned, bad values refused", () => {
  const { config, warnings } = loadRc(
    "sjq.queue.io.maxprocs = 1\n[sjq.queue.gpu]\nmaxprocs = 2\nmaxmem = 8G\n" +
      "partition = gpu-a100\ncolour = red\n[sjq]\ndefaults.queue = io\n",
  );
  assert.deepEqual(config.queues, {
    gpu: { maxprocs: 2, maxmem: 8 * GIB, partition: "gpu-a100" },
    io: { maxprocs: 1, maxmem: null, partition: null },
  });
  assert.equal(config.defaultQueue, "io");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /Unknown queue key "sjq\.queue\.gpu\.colour" in .*:6/);
  assert.throws(() => loadRc("[sjq.queue.gpu]\nmaxprocs = 0\n"), /sjq\.queue\.gpu\.maxprocs.*:2/);
  assert.throws(() => loadRc("[sjq.queue.gpu]\nmaxmem = lots\n"), /expected a size/);
  assert.throws(() => loadRc("[sjq.queue.g+u]\nmaxprocs = 1\n"), /Invalid queue name "g\+u"/);
});
