-- tests/bench/inquiry.lua - wrk script for tests/bench/run.sh.
--
-- With BENCH_TOKEN set: every request is the bill inquiry
--   POST <url>  Authorization: Bearer $BENCH_TOKEN
--   {"lineNumber":"$BENCH_LINE","inquiryMonth":"$BENCH_MONTH"}
-- or, with BENCH_GET=1 as well, GET <url> with that header only (the
-- stored result, GET /api/v1/bills/inquiry/{requestId}).
-- With BENCH_TOKENS ("token line;token line;..."; BENCH_MONTH as above):
-- the same POST, each request for the next (token, line) pair in turn, so
-- the load spreads over several customer lines.
-- Without a token: wrk's own request (GET of the URL), so that the baseline
-- (/hello) pays the same client-side cost of the response callback.
--
-- Every response is checked: anything but 200 is a failure.  done()
-- prints one line for run.sh:
--   bench-status ok=N failed=N statuses=401:3,500:1 first="<body start>"
-- The token comes from the environment only (run.sh logs in for each run);
-- it is never written into this file.

local token = os.getenv("BENCH_TOKEN")

if token ~= nil and token ~= "" and os.getenv("BENCH_GET") == "1" then
	wrk.headers["Authorization"] = "Bearer " .. token
elseif token ~= nil and token ~= "" then
	local line = os.getenv("BENCH_LINE") or "010-1234-5678"
	local month = os.getenv("BENCH_MONTH")
	if month == nil or not month:match("^%d%d%d%d%-%d%d$") then
		error("BENCH_MONTH must be YYYY-MM")
	end
	wrk.method = "POST"
	wrk.body = string.format('{"lineNumber":"%s","inquiryMonth":"%s"}',
		line, month)
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Authorization"] = "Bearer " .. token
end

local pairs_list = os.getenv("BENCH_TOKENS")
if pairs_list ~= nil and pairs_list ~= "" then
	local month = os.getenv("BENCH_MONTH")
	if month == nil or not month:match("^%d%d%d%d%-%d%d$") then
		error("BENCH_MONTH must be YYYY-MM")
	end
	-- built in init(): wrk sets the Host header only after loading this
	local reqs = {}
	function init(args)
		for tok, line in pairs_list:gmatch("([^ ;]+) ([^ ;]+)") do
			table.insert(reqs, wrk.format("POST", nil, {
				["Host"] = wrk.headers["Host"],
				["Content-Type"] = "application/json",
				["Authorization"] = "Bearer " .. tok },
				string.format('{"lineNumber":"%s","inquiryMonth":"%s"}',
				line, month)))
		end
		if #reqs == 0 then
			error("BENCH_TOKENS holds no \"token line\" pair")
		end
	end
	local next_req = 0
	function request()
		next_req = next_req % #reqs + 1
		return reqs[next_req]
	end
end

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

-- per thread (each wrk thread has its own Lua state); thread:get copies
-- plain values between states, so the per-status counts are also kept as
-- one string ("401:3,500:1"), rebuilt on each (rare) failure.
ok = 0
failed = 0
statuses = {}
status_str = ""
first = ""

function response(status, headers, body)
	if status == 200 then
		ok = ok + 1
		return
	end
	failed = failed + 1
	statuses[status] = (statuses[status] or 0) + 1
	local parts = {}
	for s, n in pairs(statuses) do
		table.insert(parts, s .. ":" .. n)
	end
	status_str = table.concat(parts, ",")
	if first == "" and body ~= nil then
		first = body:sub(1, 200):gsub("[%c\"]", " ")
	end
end

function done(summary, latency, requests)
	local ok_all, failed_all, firsts = 0, 0, ""
	local all = {}
	for _, t in ipairs(threads) do
		ok_all = ok_all + t:get("ok")
		failed_all = failed_all + t:get("failed")
		local sl = t:get("status_str")
		if sl ~= nil and sl ~= "" then
			for s, n in sl:gmatch("(%d+):(%d+)") do
				all[s] = (all[s] or 0) + tonumber(n)
			end
		end
		if firsts == "" then
			firsts = t:get("first") or ""
		end
	end
	local parts = {}
	for s, n in pairs(all) do
		table.insert(parts, s .. ":" .. n)
	end
	table.sort(parts)
	local e = summary.errors
	io.write(string.format(
		"bench-status ok=%d failed=%d statuses=%s socket_errors=%d first=\"%s\"\n",
		ok_all, failed_all, table.concat(parts, ","),
		e.connect + e.read + e.write + e.timeout, firsts))
end
