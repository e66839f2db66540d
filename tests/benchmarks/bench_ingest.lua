-- wrk script for bench_ingest.py: POST /api/analytics with batches of 20 events, unique event ids.
-- The optional delay (ms between a connection's requests) comes from the BENCH_DELAY_MS env var.
-- BENCH_SEED differs per run, so event ids never repeat across runs into the same table.
math.randomseed(tonumber(os.getenv("BENCH_SEED") or tostring(os.time())))
local counter = 0
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local thread_tag = tostring(math.random(1, 0xffffff))

local user_agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
}
local types = {
  {"PERFUME_VIEW", '"perfumeId":"p%d"'},
  {"PAGE_VIEW", '"eventData":{"section":"home"}'},
  {"SEARCH_PERFORMED", '"eventData":{"query":"oud","resultPerfumeIds":["p%d","p2"]}'},
  {"WISHLIST_ADD", '"perfumeId":"p%d","eventData":{"source":"detail"}'},
  {"RATING_COMPLETED", '"perfumeId":"p%d","value":4'},
}

local function uuid_for(n, i)
  return string.format("%08x-%04x-4%03x-8%03x-%012x", math.random(0, 0x7fffffff), i, n % 4096, i, n)
end

request = function()
  counter = counter + 1
  local session = string.format("bench-%s-%d", thread_tag, counter % 997)
  local events = {}
  for i = 1, 20 do
    local kind = types[(counter + i) % #types + 1]
    local extra = string.format(kind[2], (counter * 20 + i) % 500)
    events[i] = string.format(
      '{"eventId":"%s","eventType":"%s","sessionId":"%s","path":"/perfumes/%d","duration":1200,%s}',
      uuid_for(counter, i), kind[1], session, i, extra)
  end
  local body = '{"events":[' .. table.concat(events, ",") .. ']}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = user_agents[counter % #user_agents + 1],
  }
  return wrk.format("POST", "/api/analytics", headers, body)
end

if delay_ms > 0 then
  delay = function() return delay_ms end
end
