-- wrk script for tests/perf: closed-loop POSTs, one RESULT line at the end.
-- WRK_MODE=me:    POST /graphql {"query":"{ me { id } }"} with `Authorization: Bearer $WRK_TOKEN`
-- WRK_MODE=query: POST /graphql with the JSON body $WRK_BODY, signed in as for `me`
--                 (anonymous when WRK_TOKEN is empty)
-- WRK_MODE=login: POST /auth/login as the next user of $WRK_USERS_FILE (one email a line,
--                 password $WRK_PASSWORD), rotating, so concurrent logins are different users.
-- WRK_PACE_MS=m (> 0): each connection waits a random (exponential, mean m ms, cut at 4 m)
--                 pause before each request, so N connections offer about N*1000/m req/s
--                 (while latency is small against m) instead of as many as the server can
--                 take. wrk's latency does not include the pause.
local mode = os.getenv("WRK_MODE") or "me"
local pace_ms = tonumber(os.getenv("WRK_PACE_MS") or "0")
if pace_ms > 0 then
  function delay()
    return math.floor(math.min(-math.log(1 - math.random()), 4) * pace_ms)
  end
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

if mode == "me" then
  wrk.method = "POST"
  wrk.body = '{"query":"{ me { id } }"}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("WRK_TOKEN"), "set WRK_TOKEN")
elseif mode == "query" then
  wrk.method = "POST"
  wrk.body = assert(os.getenv("WRK_BODY"), "set WRK_BODY")
  wrk.headers["Content-Type"] = "application/json"
  local token = os.getenv("WRK_TOKEN") or ""
  if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
elseif mode == "login" then
  local password = urlencode(assert(os.getenv("WRK_PASSWORD"), "set WRK_PASSWORD"))
  local bodies = {}
  local users_file = assert(os.getenv("WRK_USERS_FILE"), "set WRK_USERS_FILE")
  for line in io.lines(users_file) do
    if #line > 0 then
      bodies[#bodies + 1] = "username=" .. urlencode(line) .. "&password=" .. password
    end
  end
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  local next_user = 0
  request = function()
    next_user = next_user % #bodies + 1
    return wrk.format("POST", nil, headers, bodies[next_user])
  end
else
  error("WRK_MODE must be me, query or login")
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d status_errors=%d\n",
    summary.requests, secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
