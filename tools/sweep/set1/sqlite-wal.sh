sqlite3 db 'pragma journal_mode=wal; create table t(x); insert into t values(1),(2); select sum(x) from t;'; sqlite3 db 'select count(*) from t'
