-- wrk script for the serving benchmark: POST one JSON body (its path is the first argument
-- after `--`), count non-2xx answers, and print the summary as one JSON line for _load.py.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
  non2xx = 0 -- a global of this thread's Lua state, read back in done() with thread:get
end

-- wrk only counts status >= 400 as an error; anything but 2xx counts here.
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, t in ipairs(threads) do
    non2xx_total = non2xx_total + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"duration_us": %.0f, "requests": %.0f, "non2xx": %.0f, "connect": %.0f, '
      .. '"read": %.0f, "write": %.0f, "timeout": %.0f, "p50_us": %.0f, "p99_us": %.0f, '
      .. '"max_us": %.0f}\n',
    summary.duration, summary.requests, non2xx_total, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max
  ))
end
