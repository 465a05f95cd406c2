# Sourced by the jobs/ scripts that start a JVM running Spark: SPARK_JVM_FLAGS, the options Spark
# 3.5 needs on Java 17 (bin/spark-submit adds them itself; plain java does not).
SPARK_JVM_FLAGS=(-XX:+IgnoreUnrecognizedVMOptions -Djdk.reflect.useDirectMethodHandle=false)
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
         java.util.concurrent java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs \
         sun.security.action sun.util.calendar; do
  SPARK_JVM_FLAGS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
