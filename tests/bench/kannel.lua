-- kannel.lua - wrk script: Kannel MO webhooks (token in the URL, as Kannel's
-- get-url sends them), each with a unique Kannel id and sender number.
--   wrk -s kannel.lua URL -- TOKEN TEXTS_FILE
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local texts, n, token = {}, 0, ""
function init(args)
  token = args[1]
  for line in io.lines(args[2]) do texts[#texts + 1] = line end
end

function request()
  n = n + 1
  local from = string.format("849%d%07d", tid, n)
  return wrk.format("GET", string.format("/webhook/kannel?token=%s&from=%s&to=1022&id=k%d-%d&ts=1700000000&text=%s",
    token, from, tid, n, texts[n % #texts + 1]))
end
