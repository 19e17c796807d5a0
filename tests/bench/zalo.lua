-- zalo.lua - wrk script: POSTs pre-signed Zalo OA webhooks, each with its own
-- msg_id and sender, cycling through a file written by bench_daemon.py
-- ("<hex mac>\t<json body>" per line).  Thread i takes lines i, i+T, i+2T...
-- so no two threads send the same message.
--   wrk -s zalo.lua URL -- BODIES_FILE THREADS
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local sigs, bodies, idx = {}, {}, 0
function init(args)
  local nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local sig, body = line:match("^(%x+)\t(.*)$")
      sigs[#sigs + 1] = "mac=" .. sig
      bodies[#bodies + 1] = body
    end
    i = i + 1
  end
end

function request()
  idx = idx % #bodies + 1
  return wrk.format("POST", "/webhook/zalo",
    {["Content-Type"] = "application/json", ["X-ZEvent-Signature"] = sigs[idx]}, bodies[idx])
end

-- Paced (open-ish loop): with WRK_PACE_MS set, each connection waits that
-- long on average between requests (uniform in [pace/2, 3*pace/2), so the
-- connections do not stay in lockstep), and the offered rate is about
-- connections * 1000 / pace.
local pace = tonumber(os.getenv("WRK_PACE_MS") or "")
if pace then
  function delay() return math.floor(pace / 2 + math.random() * pace) end
end
