"""The `database time` lines a Nodules binary logs with `NODULES_DB_TALLY=1` (one per
command and collection, from the driver's command events), for the bench drivers."""
import re


def db_time(err):
    """[(command, collection, commands, statements, secs)] from a run's stderr."""
    rows = []
    for line in err.splitlines():
        if "database time" not in line:
            continue
        f = dict(re.findall(r'(\w+)="?([^" ]+)"?', line))
        rows.append((f.get("command"), f.get("collection"), int(f.get("commands", 0)),
                     int(f.get("statements", 0)), float(f.get("secs", 0))))
    return rows
