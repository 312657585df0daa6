-- The canary decision of bench/plugin-config.json as an Envoy Lua filter:
-- what a user would otherwise write by hand. Same rule (any of: header env
-- equals test, query uid in 1001/1002, header x-app-version matching
-- 2\.[0-9]+\.[0-9]+-beta), same sticky bucket, same weight, same
-- anti-spoofing. Lua patterns have no alternation, but this regex needs
-- none, so the pattern below accepts exactly what the regex does.
local bit = require("bit")

local RELEASE = "pay"
local HOSTS = { ["pay-service"] = true }
local ROUTING_HEADER = "x-canary-cluster"
local BASELINE, CANARY = "pay-v1", "pay-v2"
local WEIGHT_BP = 2000
local STICKY_HEADER = "x-user-id"
local UIDS = { ["1001"] = true, ["1002"] = true }
local APP_VERSION = "^2%.%d+%.%d+%-beta$"

-- The sticky bucket of core/src/bucket.rs: fmix64(FNV-1a-64(name, 0xFF,
-- key)) % 10000, in LuaJIT's 64-bit integer cdata (ULL literals).
local FNV_OFFSET = 0xcbf29ce484222325ULL
local FNV_PRIME = 0x100000001b3ULL
local MIX1 = 0xff51afd7ed558ccdULL
local MIX2 = 0xc4ceb9fe1a85ec53ULL

local function fnv1a(hash, text)
  for i = 1, #text do
    hash = bit.bxor(hash, text:byte(i)) * FNV_PRIME
  end
  return hash
end

local RELEASE_HASH = bit.bxor(fnv1a(FNV_OFFSET, RELEASE), 0xFF) * FNV_PRIME

local function bucket(key)
  local h = fnv1a(RELEASE_HASH, key)
  h = bit.bxor(h, bit.rshift(h, 33)) * MIX1
  h = bit.bxor(h, bit.rshift(h, 33)) * MIX2
  h = bit.bxor(h, bit.rshift(h, 33))
  return tonumber(h % 10000ULL)
end

-- :authority lower-cased, without port or trailing dot.
local function host_of(headers)
  local host = (headers:get(":authority") or headers:get("host") or ""):lower()
  if host:sub(1, 1) == "[" then
    host = host:match("^%b[]") or host
  else
    host = host:gsub(":[^:]*$", "")
  end
  return (host:gsub("%.$", ""))
end

local function unescape(text)
  return (text:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

-- The first query parameter called `name`, %-decoded.
local function query(path, name)
  local query_string = path:match("%?([^#]*)")
  if not query_string then
    return nil
  end
  for pair in query_string:gmatch("[^&]+") do
    local key, value = pair:match("^([^=]*)=?(.*)$")
    if unescape(key) == name then
      return unescape(value)
    end
  end
  return nil
end

local function rule_matches(headers)
  if headers:get("env") == "test" then
    return true
  end
  local uid = query(headers:get(":path") or "", "uid")
  if uid and UIDS[uid] then
    return true
  end
  local version = headers:get("x-app-version")
  return version ~= nil and version:find(APP_VERSION) ~= nil
end

function envoy_on_request(handle)
  local headers = handle:headers()
  if not HOSTS[host_of(headers)] then
    headers:remove(ROUTING_HEADER)
    return
  end
  local canary
  if rule_matches(headers) then
    canary = true
  else
    local key = headers:get(STICKY_HEADER)
    if key then
      canary = bucket(key) < WEIGHT_BP
    else
      canary = math.random(0, 9999) < WEIGHT_BP
    end
  end
  headers:replace(ROUTING_HEADER, canary and CANARY or BASELINE)
end
