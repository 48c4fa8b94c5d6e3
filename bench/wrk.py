"""Driving wrk (Debian's, the load generator in C) from Python: a Lua script per run that cycles
through varied JSON bodies, counts answers by status, and can hold a fixed request rate.

One wrk thread is enough for these rates and leaves the other core to the server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

WRK = shutil.which("wrk") or "/usr/bin/wrk"

LUA = r"""
local bodies = {
%(bodies)s
}
local path = %(path)s
local rate = %(rate)s
local i = %(offset)d
statuses = {}
threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

request = function()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[i])
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

if rate > 0 then
  -- A fixed rate: each request is scheduled interval ms after the previous one (the clock is
  -- CLOCK_MONOTONIC through LuaJIT's ffi), whichever connection is free sends it.
  local ffi = require("ffi")
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } zeta_ts; int clock_gettime(int, zeta_ts *); ]]
  local ts = ffi.new("zeta_ts")
  local interval = 1000.0 / rate
  local next_at = nil
  delay = function()
    ffi.C.clock_gettime(1, ts)
    local now = tonumber(ts.tv_sec) * 1000.0 + tonumber(ts.tv_nsec) / 1e6
    if next_at == nil or next_at < now - 50 then next_at = now end
    local wait = next_at - now
    next_at = next_at + interval
    if wait < 0 then return 0 end
    return math.floor(wait)
  end
end

done = function(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      codes[#codes + 1] = string.format('"%%d": %%d', status, n)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "codes": {%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, table.concat(codes, ", ")))
end
"""


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int  # connect, read, write errors and timeouts: dropped or unanswered connections
    codes: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return self.codes.get(200, 0)

    @property
    def errors(self) -> int:
        """Everything that is not a 200: other statuses and socket errors."""
        return self.requests - self.ok + self.socket_errors

    def as_dict(self) -> dict:
        return {"rps": round(self.rps, 1), "p50_ms": round(self.p50_ms, 2), "p99_ms": round(self.p99_ms, 2),
                "max_ms": round(self.max_ms, 1), "errors": self.errors, "socket_errors": self.socket_errors,
                "codes": self.codes, "requests": self.requests}


def script(path: str, bodies: list[str], rate: float = 0.0, offset: int = 0) -> str:
    for body in bodies:
        if "]==]" in body:
            raise ValueError("a body contains the Lua long-string terminator")
    return LUA % {"bodies": ",\n".join(f"[==[{b}]==]" for b in bodies), "path": json.dumps(path),
                  "rate": float(rate), "offset": offset}


def run(url: str, path: str, bodies: list[dict], connections: int, seconds: float, rate: float = 0.0,
        timeout_s: int = 10) -> Result:
    """Keep `connections` connections busy for `seconds` (or hold `rate` requests/s with them)."""
    texts = [json.dumps(b, ensure_ascii=False) for b in bodies]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8", delete=False) as f:
        f.write(script(path, texts, rate))
    try:
        proc = subprocess.run([WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={timeout_s}s",
                               "-s", f.name, url], capture_output=True, text=True, timeout=seconds + 60)
    finally:
        Path(f.name).unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout[-500:]}")
    data = json.loads(line.removeprefix("WRK-RESULT "))
    return Result(requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                  p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
                  socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
                  codes={int(k): v for k, v in data["codes"].items()})
