-- wrk script of bench/run.sh: POSTs an OpenAI chat body (not streamed).
-- Environment: BENCH_PAIRS (a file of "raw-key model" lines, cycled) or BENCH_KEY + BENCH_MODEL;
-- BENCH_HEADERS ("Name: value|Name: value") extra headers; an Authorization among them replaces the key;
-- BENCH_ROUTE=chat (default) | messages | responses: the same small request in that caller API's shape
-- (bench/dialects.sh), so that the dialects' rows differ only by translation. The chat body stays byte for byte
-- what it has always been, so that figures measured before and after it was added compare.
local requests = {}
local count = 0
local next_index = 0
local route = os.getenv("BENCH_ROUTE") or "chat"

local system = "You are a concise weather assistant."
local user = "What is the weather in Boston today? Answer in one sentence."
local bodies = {
  chat = function(model)
    return '{"model":"' .. model .. '","messages":[{"role":"system","content":"' .. system .. '"},'
      .. '{"role":"user","content":"' .. user .. '"}],'
      .. '"max_tokens":64,"temperature":0,"stream":false}'
  end,
  -- Anthropic's Messages: the system prompt is a top-level field and max_tokens is required.
  messages = function(model)
    return '{"model":"' .. model .. '","system":"' .. system .. '","messages":[{"role":"user","content":"' .. user .. '"}],'
      .. '"max_tokens":64,"temperature":0,"stream":false}'
  end,
  -- OpenAI's Responses: instructions for the system prompt, input items for the conversation.
  responses = function(model)
    return '{"model":"' .. model .. '","instructions":"' .. system .. '","input":[{"role":"user","content":"' .. user .. '"}],'
      .. '"max_output_tokens":64,"temperature":0,"stream":false}'
  end,
}
local body = bodies[route] or error("BENCH_ROUTE must be chat, messages or responses, not " .. route)

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
    -- Anthropic's SDKs and Claude Code always send it; the gateway must forward or drop it.
    if route == "messages" then headers["anthropic-version"] = "2023-06-01" end
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
