# PostgreSQL 15 on 127.0.0.1:15432 (TCP this time) under pgbench, as
# nobody, with its data in a directory under /tmp (postgres.sh keeps its
# in the working directory): pgbench -i (COPY of 100000 rows, primary
# keys, vacuum), then 4 clients on 2 threads running a select-only run and
# a script of contended updates whose total is known, and pg_dump.
bin=/usr/lib/postgresql/15/bin
top=$(mktemp -d /tmp/pgbench.XXXXXX) && chmod 755 "$top"
trap 'rm -rf "$top"' EXIT
pg=$top/pg
mkdir -p "$pg" && chown -R 65534:65534 "$pg" && chmod 700 "$pg"
as() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$pg" LC_ALL=C PGHOST=127.0.0.1 PGPORT=15432 PGUSER=postgres "$@"; }
as $bin/initdb -D "$pg/data" -A trust -U postgres --locale=C --no-sync >"$pg/initdb.log" 2>&1 && echo initdb ok
as $bin/pg_ctl -D "$pg/data" -l "$pg/log" -w -t 300 \
	-o "-c listen_addresses=127.0.0.1 -p 15432 -k '' -c fsync=off -c max_connections=20" start >/dev/null && echo started
as $bin/pgbench -i -s 1 -q postgres 2>&1 | grep -c 'done in'
sql() { as $bin/psql -X -q -At -d postgres -c "$1"; }
sql 'select count(*), sum(aid) from pgbench_accounts'
as $bin/pgbench -n -S -c 4 -j 2 -t 200 postgres 2>&1 | grep -E '^number of (transactions actually processed|failed)'
sql 'create table counters (id int primary key, n int); insert into counters values (1, 0), (2, 0)'
cat >"$pg/upd.sql" <<'S'
begin;
update counters set n = n + 1 where id = 1;
update counters set n = n + 2 where id = 2;
end;
S
as $bin/pgbench -n -f "$pg/upd.sql" -c 4 -j 2 -t 100 postgres 2>&1 | grep -E '^number of (transactions actually processed|failed)'
sql 'select id, n from counters order by id'
as $bin/pg_dump -d postgres -t counters | grep -c 'COPY public.counters'
as $bin/pg_ctl -D "$pg/data" -m fast -w -t 300 stop >/dev/null && echo stopped
