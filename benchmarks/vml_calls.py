"""Count the Intel MKL VML calls (vmsSqrt, vmsExp, vmdLn, ...) a Python command makes, with the ATen op behind each.

torch's CPU build sends float and double sqrt, exp, log, log2, log10, erf, erfc, erfinv, tanh, sin, cos, tan,
asin, acos, atan and trunc of contiguous tensors to MKL's VML, and VML picks its kernel by CPU vendor whatever
MKL_CBWR says (pipelines/numerics.py pins everything else): the same seeded run rounds differently on an Intel and
an AMD machine. Code that must give the same floats on both should make no VML call; this finds the ones it makes.

It runs the command under gdb (which must be on PATH) with a breakpoint on every VML entry point of the libraries
torch loads, and prints one row per call site: the VML function, the number of calls, the torch ops from the
outermost down (the autograd node when the call is in a backward pass), the ATen kernel and the Python stack of the
first call (its innermost frame and the innermost three outside site-packages). Only the main process is traced
(not forked workers), and every call stops in gdb, so a run with many calls is much slower than without it: trace a
short run (a run with none costs gdb's start-up and about twice the CPU time).

    python benchmarks/vml_calls.py -m stages.train
    python benchmarks/vml_calls.py path/to/script.py --its-args
    python benchmarks/vml_calls.py -c "import torch; torch.rand(8).sqrt()"

The exit status is the command's, or 3 when it ran cleanly but made VML calls.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

CONFIG = "VML_CALLS_CONFIG"  # set for the gdb side: where it writes the result and the Python stacks
# MKL VML's element-wise entry points: v[m]{s,d,c,z}Name, with an _64 twin for 64-bit lengths (vmsSqrt, vdExp_64)
VML_NAME = r"^v(m)?[sdcz][A-Z][A-Za-z0-9]*(_64)?$"
# Where torch's MKL lives (linked into libtorch_cpu in the pip wheels), as a gdb basic regex.
LIBRARIES = r"libtorch_cpu\|libmkl_"


def _trace_in_gdb() -> None:
    """The gdb side: count every VML call of the inferior by call site, then write the counts as JSON."""
    import re

    import gdb

    config = json.loads(os.environ[CONFIG])
    vml = re.compile(VML_NAME)
    op_frame = re.compile(r"^at::_ops::(\w+)::(?:call|redispatch)\(")
    node_frame = re.compile(r"^torch::autograd::generated::(?:\(anonymous namespace\)::)?(\w+)::apply\(")
    python_or_engine = ("_PyEval_", "PyObject_", "torch::autograd::Engine::", "torch::autograd::THPVariable")
    sites: dict[tuple, dict] = {}  # (function, ops, kernel, Python code, instruction) -> calls, stack
    pending: list[tuple] = []  # sites whose first call waits for its Python stack

    def site_of(function: str) -> tuple[str, str, str]:
        ops: list[str] = []
        node, kernel = "", ""
        frame = gdb.newest_frame().older()
        while frame is not None:
            name = (frame.name() or "").removeprefix("void ")
            if not name or name.startswith(python_or_engine):
                break
            if not kernel and name.startswith("at::native::"):
                kernel = name.split("(", 1)[0]
            if m := op_frame.match(name):
                if not ops or ops[-1] != m.group(1):
                    ops.append(m.group(1))
            elif (m := node_frame.match(name)) and not node:
                node = m.group(1)
                break  # a backward node: the ops above it are the engine's, not the model's
            frame = frame.older()
        chain = " > ".join(reversed(ops))
        if node:
            chain = f"{node} (backward)" + (f" > {chain}" if chain else "")
        return function, chain or "?", kernel or "?"

    def field(value, *names: str):
        """The first of `names` that the struct (or pointer to it) `value` has: CPython renames fields between
        versions."""
        struct = value.dereference() if value.type.strip_typedefs().code == gdb.TYPE_CODE_PTR else value
        for name in names:
            try:
                return struct[name]
            except gdb.error:
                continue
        raise gdb.error(f"none of {names}")

    def python_site() -> tuple[int, int]:
        """(code object, instruction) of the Python frame this thread runs, read from CPython's own structures (torch
        releases the GIL inside its ops, so the thread is found by its id). Needs libpython's debug symbols; (0, 0)
        without them."""
        lwp = gdb.selected_thread().ptid[1]
        try:
            tstate = gdb.parse_and_eval("_PyRuntime.interpreters.head")
            tstate = field(field(tstate, "threads"), "head")
            while int(tstate):
                if int(field(tstate, "native_thread_id")) == lwp:
                    try:
                        frame = field(field(tstate, "cframe"), "current_frame")  # 3.11, 3.12
                    except gdb.error:
                        frame = field(tstate, "current_frame")  # 3.13 and later
                    if not int(frame):
                        return 0, 0
                    return int(field(frame, "f_code", "f_executable")), int(field(frame, "prev_instr", "instr_ptr"))
                tstate = field(tstate, "next")
        except gdb.error:
            pass
        return 0, 0

    class VmlBreakpoint(gdb.Breakpoint):
        def stop(self) -> bool:
            caller = gdb.newest_frame().older()
            if caller is not None and vml.match(caller.name() or ""):
                return False  # VML calling VML (vsExp -> vmsExp): counted once, at the outer call
            key = (*site_of(self.location), *python_site())
            site = sites.setdefault(key, {"calls": 0, "python": ""})
            site["calls"] += 1
            if site["calls"] == 1:
                pending.append(key)
                return True  # gdb forbids calling into the inferior here: the main loop dumps the Python stack
            return False

    def python_stack() -> str:
        """The inferior's Python stack, written by CPython's own faulthandler routine into a file."""
        path = config["stack_file"]
        open(path, "w").close()
        fd = int(gdb.parse_and_eval(f'((int (*)(const char *, int, int)) open)("{path}", 1, 0)'))
        if fd < 0:
            return "(the Python stack could not be written)"
        gdb.parse_and_eval(
            f"((void (*)(int, void *)) _Py_DumpTraceback)({fd}, ((void *(*)(void)) PyGILState_GetThisThreadState)())"
        )
        gdb.parse_and_eval(f"((int (*)(int)) close)({fd})")
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()

    watched: set[str] = set()

    def watch_new_functions() -> None:
        listing = gdb.execute(r"info functions ^vm\?[sdcz][A-Z]", to_string=True)
        for line in listing.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("0x") and vml.match(parts[-1]) and parts[-1] not in watched:
                watched.add(parts[-1])
                VmlBreakpoint(parts[-1], internal=True).silent = True  # stops print nothing

    exit_code = [None]
    gdb.events.exited.connect(lambda event: exit_code.__setitem__(0, getattr(event, "exit_code", None)))
    for command in (
        "set pagination off",
        "set confirm off",
        "set print thread-events off",
        "set print inferior-events off",
        "set breakpoint pending on",
        f"catch load {LIBRARIES}",
    ):
        gdb.execute(command, to_string=True)
    for breakpoint in gdb.breakpoints():
        breakpoint.silent = True  # the catchpoint: no message at each library load
    gdb.execute("run", to_string=True)  # the command's own output goes straight to the terminal, not to gdb
    while gdb.selected_inferior().pid:
        if pending:
            sites[pending.pop()]["python"] = python_stack()
        else:  # stopped at a library load
            watch_new_functions()
        gdb.execute("continue", to_string=True)
    with open(config["result_file"], "w", encoding="utf-8") as f:
        json.dump(
            {
                "exit_code": exit_code[0],
                "watched": len(watched),
                "sites": [{"function": k[0], "ops": k[1], "kernel": k[2], **v} for k, v in sites.items()],
            },
            f,
        )


def _short_stack(text: str) -> list[str]:
    """A faulthandler dump cut to the innermost frame and the innermost three outside site-packages (the caller's
    own code), innermost first."""
    frames = [line.strip() for line in text.splitlines() if line.strip().startswith("File ")]
    own = [f for f in frames[1:] if "/site-packages/" not in f][:3]
    return frames[:1] + own


def main(argv: list[str]) -> int:
    command = argv
    if not command or command[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if command else 2
    gdb = shutil.which("gdb")
    if gdb is None:
        print("vml_calls: gdb is not on PATH (apt-get install gdb)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="vml-calls-") as tmp:
        config = {
            "result_file": os.path.join(tmp, "result.json"),
            "stack_file": os.path.join(tmp, "stack.txt"),
        }
        run = [
            gdb,
            "-batch",
            "-nx",
            "-q",
            "-iex",
            "set auto-load python-scripts off",
            "-x",
            os.path.abspath(__file__),
            "--args",
            sys.executable,
            *command,
        ]
        done = subprocess.run(run, env={**os.environ, CONFIG: json.dumps(config)}, check=False)
        if not os.path.exists(config["result_file"]):
            print(
                f"vml_calls: gdb stopped before the command ended (gdb exit status {done.returncode})", file=sys.stderr
            )
            return done.returncode or 1
        with open(config["result_file"], encoding="utf-8") as f:
            result = json.load(f)
    if result.get("error"):
        print(f"vml_calls: the gdb side failed:\n{result['error']}", file=sys.stderr)
        return 1
    rows: dict[tuple, int] = {}  # two calls on one line are two sites to gdb, one row here
    for s in result["sites"]:
        row = (s["function"], s["ops"], s["kernel"], *_short_stack(s["python"]))
        rows[row] = rows.get(row, 0) + s["calls"]
    total = sum(rows.values())
    print(f"\n# MKL VML calls: {total} ({len(rows)} call sites; {result['watched']} VML entry points watched)")
    for (function, ops, kernel, *stack), calls in sorted(rows.items(), key=lambda r: (-r[1], r[0])):
        print(f"{calls:>9}  {function:<12} {ops}  [{kernel}]")
        for line in stack:
            print(f"{'':>11}{line}")
    if result["watched"] == 0:
        print("# no VML entry point was found: torch (libtorch_cpu) never loaded, or this build has no MKL")
    code = result["exit_code"]
    if code:
        return int(code)
    return 3 if total else 0


if __name__ == "__main__":
    try:
        import gdb  # noqa: F401  (present only when gdb runs this file as its script)
    except ImportError:
        sys.exit(main(sys.argv[1:]))
    else:
        try:
            _trace_in_gdb()
        except Exception:  # noqa: BLE001  (reported by the calling side, which gdb's batch mode would not do)
            import traceback

            with open(json.loads(os.environ[CONFIG])["result_file"], "w", encoding="utf-8") as f:
                json.dump({"error": traceback.format_exc(), "exit_code": None, "watched": 0, "sites": []}, f)
