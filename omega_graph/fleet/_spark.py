"""Spark, optional: the session the fleet commands use, and the export's tables as Spark DataFrames.

PySpark is the extra ``omega-graph[spark]`` (it needs a Java runtime 17 or newer, e.g. Debian's
``default-jre-headless``). Nothing here imports it until a function is called; without it the call
raises :class:`~omega_graph.errors.MissingDependencyError` saying how to install it.

Examples
--------
>>> master_of("local[4]")
'local[4]'
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Any

from ..errors import MissingDependencyError, NotFoundError
from ._layout import Manifest, read_manifest, table_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["DEFAULT_MASTER", "INSTALL_HINT", "master_of", "read_table", "require_pyspark", "session"]

INSTALL_HINT = (
    "install the Spark extra: pip install 'omega-graph[spark]' (and a Java runtime 17+, "
    "e.g. apt-get install default-jre-headless)"
)
#: The master when nothing names one: this machine's cores, two here.
DEFAULT_MASTER = "local[2]"
#: Settings every fleet session gets: UTC periods (as the store statistics), store ids read as text.
CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def require_pyspark() -> Any:
    """Import and return ``pyspark``, or raise :class:`MissingDependencyError` with the install hint."""
    try:
        import pyspark
    except ImportError as err:
        raise MissingDependencyError(
            f"this fleet command runs on Spark, which is not installed; {INSTALL_HINT}"
        ) from err
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise MissingDependencyError(f"Spark needs a Java runtime and none is on PATH; {INSTALL_HINT}")
    return pyspark


def master_of(master: str | None) -> str | None:
    """The Spark master to ask for: ``master``, else ``$OMEGA_GRAPH_SPARK_MASTER``, else None.

    None leaves it to Spark: ``spark-submit --master URL`` (or ``spark.master`` in Spark's own
    configuration) when there is one, else ``local[2]``, this machine's two cores (see :func:`session`).
    """
    return master or os.environ.get("OMEGA_GRAPH_SPARK_MASTER") or None


def session(master: str | None = None, app_name: str = "omega-graph fleet") -> SparkSession:
    """A SparkSession for fleet work (the active one if any, with :data:`CONF` applied).

    The master is ``master`` or ``$OMEGA_GRAPH_SPARK_MASTER`` when given, else the one
    ``spark-submit --master`` or Spark's configuration names, else ``local[2]``. Python workers run
    this interpreter (``PYSPARK_PYTHON`` defaults to ``sys.executable``), so they import the same
    omega-graph, pandas and pyarrow.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    chosen = master_of(master)
    if chosen is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        chosen = DEFAULT_MASTER  # not started by spark-submit (whose JVM knows its --master)
    if chosen is not None:
        builder = builder.master(chosen)
    for key, value in CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    for key, value in CONF.items():
        if not key.startswith("spark.ui"):
            spark.conf.set(key, value)
    return spark


def read_table(
    spark: SparkSession, out: str | os.PathLike[str], table: str, manifest: Manifest | None = None
) -> DataFrame:
    """``table`` of export ``out`` over the manifest's stores, with the ``store`` column (a string).

    The files are named by ``file://`` URIs: the export is on this machine's file system (or one
    every node mounts at the same path), whatever Spark's default file system (HDFS on a cluster).
    """
    manifest = manifest if manifest is not None else read_manifest(out, required=True)
    files = table_files(out, table, manifest)
    if not files:
        raise NotFoundError(
            "fleet export", os.fspath(out), "export at least one store first (omega-graph fleet export)"
        )
    base = "file://" + os.path.join(os.path.abspath(os.fspath(out)), table)  # Hadoop paths: not %-encoded
    return spark.read.option("basePath", base).parquet(*("file://" + f for f in files))
