# free-port.sh: shell functions of the scripts that start test servers
# (persist/postgres/testdata/pg-start.sh, persist/artifacts/testdata/s3-start.sh).
# Source it; it runs nothing itself.

# free_port prints a TCP port of 127.0.0.1 nothing listens on now (it may be
# taken before the caller binds it: callers retry on another).
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
