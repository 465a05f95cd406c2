"""Load an advspark round's Parquet tables into pandas.

    from advspark_tables import load
    summary = load("out/my-round", "summary")
    records = load("out/my-round", "records")      # has the `attack` partition column

Tables of a round folder (see notebooks/README.md): attacks, records, predictions, scores,
summary. `records`, `predictions` and `scores` are Hive-partitioned (`<table>/attack=<name>/`);
the partition value becomes a string column, exactly as Spark reads it back.

Two readers give the same columns and dtypes:

* pandas' own Parquet engines (pyarrow or fastparquet), when one is importable: the usual case
  on an analyst's machine.
* Otherwise `parquet_to_jsonl.mjs` (Node + the npm package hyparquet, pinned in package.json;
  install once with `npm ci --prefix notebooks`), whose JSON lines pandas reads. This is the route
  on Debian, which packages no Python Parquet reader.

Set ADVSPARK_PARQUET_ENGINE=pyarrow|fastparquet|node to force one.

Both readers: every file under the table folder whose name (or any of whose folders' names) does
not start with '_' or '.' is a data file (Spark's _SUCCESS, .crc files and hidden temp files are
skipped); files are read in path order and concatenated; `k=v` folders become string columns.

Dtypes (pyarrow's conventions, applied to the table as a whole): strings and partition columns
-> object (str / None), or pandas 3's `str` dtype (NaN for null) where that is the default; int32/int64 -> int32/int64, or float64 when the column holds a null; boolean ->
bool, or object (True/False/None) with a null; double -> float64; arrays (e.g. clean_top5,
defense_names) -> Python lists (of ints, of str / None).

`load(round, "summary")` gives the current column names (docs/tables.md) also for a summary
written before them (images, clean_correct, untargeted_success_low, ...: renamed on load).

Caveats of the Node route: 64-bit integers beyond +-(2^53 - 1) cross JSON as strings and are
turned back into exact Python ints here, but a column that also holds a null is float64 in both
routes, which rounds them (timestamps in ms, e.g. wall_ms, are far below 2^53); Parquet DECIMALs
arrive as floats (pyarrow gives decimal.Decimal objects); timestamps are millisecond-precise;
NaN and +-Infinity survive (sent as strings). None of these types is in advspark's tables today.
"""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

TABLES = ("attacks", "records", "predictions", "scores", "summary")
HERE = Path(__file__).resolve().parent


def _string_dtype():
    # pandas 3 (and 2.x with future.infer_string) reads strings as the `str` dtype, NaN for null;
    # otherwise object holding str / None. Both routes follow whichever this pandas uses.
    try:
        return "str" if pd.get_option("future.infer_string") else object
    except (KeyError, pd.errors.OptionError):
        return object


STR = _string_dtype()
NODE_SCRIPT = HERE / "parquet_to_jsonl.mjs"

__all__ = ["TABLES", "load", "has_table", "data_files", "engine", "round_dir", "dataset_dir", "class_names",
           "label_name"]

# Summary columns renamed in issue 18 (old name -> current name): a summary written before reads
# under the current names. advspark report (ReportJob) reads both spellings the same way.
SUMMARY_RENAMED = {
    "images": "image_count",
    "clean_correct": "clean_correct_count",
    "clean_accuracy": "clean_correct_rate",
    "failed": "failed_count",
    "untargeted_success_low": "untargeted_success_rate_low",
    "untargeted_success_high": "untargeted_success_rate_high",
    "targeted_success_low": "targeted_success_rate_low",
    "targeted_success_high": "targeted_success_rate_high",
    "untargeted_success_on_correct_low": "untargeted_success_rate_on_correct_low",
    "untargeted_success_on_correct_high": "untargeted_success_rate_on_correct_high",
    "targeted_success_on_correct_low": "targeted_success_rate_on_correct_low",
    "targeted_success_on_correct_high": "targeted_success_rate_on_correct_high",
}


def _is_data(name: str) -> bool:
    return not (name.startswith("_") or name.startswith("."))


def _partition_value(raw: str):
    # Spark %XX-escapes special characters in partition folder names; a null value is this.
    return None if raw == "__HIVE_DEFAULT_PARTITION__" else unquote(raw)


def data_files(table_dir) -> list[tuple[Path, dict]]:
    """The data files of a table folder, in path order, each with its partition values."""
    table_dir = Path(table_dir)
    if table_dir.is_file():
        return [(table_dir, {})]
    out = []

    def walk(d: Path, parts: dict):
        for p in sorted(d.iterdir(), key=lambda x: x.name):
            if not _is_data(p.name):
                continue
            if p.is_dir():
                k, eq, v = p.name.partition("=")
                walk(p, {**parts, k: _partition_value(v)} if eq and k else parts)
            elif p.is_file():
                out.append((p, parts))

    walk(table_dir, {})
    return out


def engine() -> str:
    """The reader `load` uses: 'pyarrow', 'fastparquet' or 'node'."""
    forced = os.environ.get("ADVSPARK_PARQUET_ENGINE", "").strip().lower()
    if forced:
        if forced not in ("pyarrow", "fastparquet", "node"):
            raise ValueError(f"ADVSPARK_PARQUET_ENGINE={forced!r}: use pyarrow, fastparquet or node")
        return forced
    for name in ("pyarrow", "fastparquet"):
        try:
            __import__(name)
            return name
        except ImportError:
            pass
    return "node"


def _table_dir(round_dir, table) -> Path:
    return Path(round_dir).expanduser() / table


def has_table(round_dir, table) -> bool:
    """True when the round folder has that table with at least one data file."""
    d = _table_dir(round_dir, table)
    return d.exists() and bool(data_files(d))


def load(round_dir, table: str) -> pd.DataFrame:
    """One table of a round folder as a DataFrame (see the module doc for columns and dtypes).

    A table folder holding no data file gives an empty DataFrame; a missing folder raises
    FileNotFoundError naming it.
    """
    round_dir = Path(round_dir).expanduser()
    d = _table_dir(round_dir, table)
    if not round_dir.is_dir():
        raise FileNotFoundError(f"round folder {round_dir} does not exist")
    if not d.exists():
        present = sorted(p.name for p in round_dir.iterdir() if p.is_dir() and _is_data(p.name))
        raise FileNotFoundError(
            f"table {table!r} not found: no folder {d} (this round has: {', '.join(present) or 'nothing'})")
    eng = engine()
    df = _load_node(d) if eng == "node" else _load_pandas(d, eng)
    if table == "summary":
        df = df.rename(columns={o: n for o, n in SUMMARY_RENAMED.items() if o in df.columns and n not in df.columns})
    return df


# ---- pandas engines ------------------------------------------------------------------------------

def _load_pandas(d: Path, eng: str) -> pd.DataFrame:
    files = data_files(d)
    if not files:
        return pd.DataFrame()
    partition_names: list[str] = []
    for _, parts in files:
        partition_names += [k for k in parts if k not in partition_names]
    frames = []
    for path, parts in files:
        f = pd.read_parquet(path, engine=eng)
        f = f.drop(columns=[c for c in partition_names if c in f.columns])
        for k in partition_names:
            f[k] = pd.Series([parts.get(k)] * len(f), index=f.index, dtype=STR)
        frames.append(f)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            df[c] = s.astype(STR) if STR is not object else s.astype(object).where(s.notna(), None)
        elif s.dtype == object:
            # arrays (pyarrow gives numpy arrays) -> lists, as the node route gives them
            df[c] = s.map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
    return df


# ---- node route ----------------------------------------------------------------------------------

def _node() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise RuntimeError(
            "No Python Parquet reader (pyarrow/fastparquet) and no `node` on PATH. Install one of: "
            "pyarrow (pip install pyarrow), or Node.js (apt-get install nodejs npm) and then "
            "`npm ci --prefix notebooks`.")
    if not (HERE / "node_modules" / "hyparquet").is_dir() or not (HERE / "node_modules" / "hyparquet-compressors").is_dir():
        raise RuntimeError(
            f"No Python Parquet reader (pyarrow/fastparquet) and the Node reader's packages are not "
            f"installed in {HERE / 'node_modules'}: run `npm ci --prefix notebooks` once "
            f"(from the repository root), or install pyarrow.")
    return node


_CASTS = {"int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
          "float": "float32", "double": "float64"}


def _restore_number(v):
    # values JSON could not carry: big int64 as decimal strings, NaN/Infinity as words
    if isinstance(v, str):
        return float(v) if v in ("NaN", "Infinity", "-Infinity") else int(v)
    return v


def _load_node(d: Path) -> pd.DataFrame:
    node = _node()
    with tempfile.TemporaryDirectory(prefix="advspark-parquet-") as tmp:
        schema_file = Path(tmp) / "schema.json"
        proc = subprocess.run([node, str(NODE_SCRIPT), str(d), "--schema", str(schema_file)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise RuntimeError(f"reading {d} with {NODE_SCRIPT.name} failed (exit {proc.returncode}): "
                               f"{proc.stderr.decode(errors='replace').strip()}")
        schema = json.loads(schema_file.read_text())
    columns = schema["columns"]
    names = [c["name"] for c in columns]
    if schema["rows"] == 0:
        empty = {**_CASTS, "boolean": "bool", "string": STR, "timestamp": "datetime64[ns]",
                 "timestamp_utc": "datetime64[ns, UTC]", "date": "datetime64[ns]"}
        df = pd.DataFrame({n: pd.Series([], dtype=empty.get(c["type"], object)) for n, c in zip(names, columns)})
        return df if names else pd.DataFrame()
    df = pd.read_json(io.BytesIO(proc.stdout), lines=True, orient="records", dtype=False,
                      convert_dates=False, precise_float=True)
    df = df.reindex(columns=names)
    for c in columns:
        name, t = c["name"], c["type"]
        s = df[name]
        has_null = bool(s.isna().any())
        if t in _CASTS:
            if s.dtype == object:
                s = s.map(_restore_number)
            if t == "float":
                df[name] = s.astype("float32")  # as pyarrow: float32 even with nulls (NaN)
            elif t == "double" or has_null:
                df[name] = s.astype("float64")
            else:
                df[name] = s.astype(_CASTS[t])
        elif t == "boolean":
            df[name] = s.astype(object).where(s.notna(), None) if has_null else s.astype(bool)
        elif t in ("timestamp", "timestamp_utc", "date"):
            d = pd.to_datetime(s, utc=True)  # the Node reader writes ISO instants (Z)
            df[name] = d if t == "timestamp_utc" else d.dt.tz_localize(None)
        elif t == "binary":
            df[name] = s.map(lambda v: base64.b64decode(v) if isinstance(v, str) else None).astype(object)
        elif t == "string" and STR is not object:
            df[name] = s.astype(STR)
        else:  # strings, binary (base64), lists, maps, structs: Python objects, None for null
            if t == "list<int64>":
                s = s.map(lambda v: [_restore_number(x) for x in v] if isinstance(v, list) else v)
            df[name] = s.astype(object).where(s.notna(), None)
    return df


# ---- notebook helpers ----------------------------------------------------------------------------

REPO = HERE.parent


def _env_path(value: str) -> Path:
    # A relative path is taken from the current folder, else from the repository root: the kernel
    # runs in notebooks/, while `ADVSPARK_ROUND=out/x jupyter lab notebooks/` is typed at the root.
    p = Path(value).expanduser()
    if p.is_absolute() or p.exists() or not (REPO / p).exists():
        return p
    return REPO / p


def _looks_like_round(p: Path) -> bool:
    return p.is_dir() and any((p / t).is_dir() for t in ("summary", "records"))


def round_dir() -> Path:
    """The round folder to analyse: env ADVSPARK_ROUND, else the newest round under <repo>/out."""
    env = os.environ.get("ADVSPARK_ROUND", "").strip()
    if env:
        p = _env_path(env)
        if not _looks_like_round(p):
            raise FileNotFoundError(
                f"ADVSPARK_ROUND={env}: {'no such folder' if not p.is_dir() else 'not a round folder (no summary/ or records/ inside)'}. "
                "Point it at a local round folder, e.g. out/<round-id> (sync an s3a:// round first).")
        return p.resolve()
    candidates = [p for p in (REPO / "out").glob("*") if _looks_like_round(p)] if (REPO / "out").is_dir() else []
    if not candidates:
        raise FileNotFoundError(
            "ADVSPARK_ROUND is not set and there is no round under "
            f"{REPO / 'out'}. Run a round (jobs/advspark attack ...) or set ADVSPARK_ROUND=<round folder>.")
    newest = max(candidates, key=lambda p: max((q.stat().st_mtime for q in p.iterdir()), default=p.stat().st_mtime))
    print(f"ADVSPARK_ROUND is not set: using the newest round under out/: {newest}")
    return newest.resolve()


def dataset_dir(required: bool = True) -> Path | None:
    """The clean dataset folder (holding images/): env ADVSPARK_DATASET, else <repo>/demo/data."""
    env = os.environ.get("ADVSPARK_DATASET", "").strip()
    if env:
        p = _env_path(env)
        if not (p / "images").is_dir():
            raise FileNotFoundError(
                f"ADVSPARK_DATASET={env}: no images/ folder inside. Point it at the dataset the round "
                "attacked (the folder holding images/<ImageId>), e.g. /path/to/nips17-dev.")
        return p.resolve()
    fallback = REPO / "demo" / "data"
    if (fallback / "images").is_dir():
        print(f"ADVSPARK_DATASET is not set: using {fallback}")
        return fallback.resolve()
    if required:
        raise FileNotFoundError("ADVSPARK_DATASET is not set: set it to the dataset folder holding images/.")
    return None


def class_names(dataset=None) -> list[str] | None:
    """The dataset's class names, line i = label i in the manifest's labels (its `labels.txt`, or
    `classes.txt` of an image-folder dataset); None when the dataset folder has neither.

    The demo set and the shared NIPS-17 and CIFAR-10 sets ship a labels.txt (NIPS-17: 1001 lines,
    line 0 = background, as the manifest's labels 1..1000).
    """
    d = Path(dataset) if dataset is not None else dataset_dir(required=False)
    if d is None:
        return None
    for name in ("labels.txt", "classes.txt"):
        f = d / name
        if f.is_file():
            return [line.strip() for line in f.read_text(encoding="utf-8").splitlines()]
    return None


def label_name(label, names: list[str] | None, width: int = 18) -> str:
    """'3 cat' for label 3 given class names (the first of comma-separated synonyms, shortened to
    `width` characters), else '3'; '?' for a missing label."""
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return "?"
    i = int(label)
    if names is None or not 0 <= i < len(names) or not names[i]:
        return str(i)
    n = names[i].split(",")[0].strip()
    return f"{i} {n if len(n) <= width else n[:width - 1] + '…'}"
