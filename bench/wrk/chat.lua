-- wrk script of bench/run.sh: POSTs an OpenAI chat body (not streamed).
-- Environment: BENCH_PAIRS (a file of "raw-key model" lines, cycled) or BENCH_KEY + BENCH_MODEL;
-- BENCH_HEADERS ("Name: value|Name: value") extra headers; an Authorization among them replaces the key.
local requests = {}
local count = 0
local next_index = 0

local function body(model)
  return '{"model":"' .. model .. '","messages":[{"role":"system","content":"You are a concise weather assistant."},'
    .. '{"role":"user","content":"What is the weather in Boston today? Answer in one sentence."}],'
    .. '"max_tokens":64,"temperature":0,"stream":false}'
end

function init(args)
  local extra = {}
  local own_auth = false
  for header in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
    local name, value = string.match(header, "^%s*([^:]+):%s*(.-)%s*$")
    if name then
      extra[name] = value
      if string.lower(name) == "authorization" then own_auth = true end
    end
  end
  local list = {}
  local file = os.getenv("BENCH_PAIRS")
  if file and file ~= "" then
    for line in io.lines(file) do
      local key, model = string.match(line, "^(%S+)%s+(%S+)")
      if key then list[#list + 1] = { key, model } end
    end
  else
    list[1] = { os.getenv("BENCH_KEY") or "none", os.getenv("BENCH_MODEL") or "none" }
  end
  for index, item in ipairs(list) do
    local headers = { ["Host"] = wrk.host .. ":" .. tostring(wrk.port), ["Content-Type"] = "application/json" }
    if not own_auth then headers["Authorization"] = "Bearer " .. item[1] end
    for name, value in pairs(extra) do headers[name] = value end
    requests[index] = wrk.format("POST", nil, headers, body(item[2]))
  end
  count = #requests
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end
