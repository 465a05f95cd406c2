# Shared by jobs/submit-standalone, jobs/submit-yarn and jobs/submit-k8s (sourced, not run).
# Turns the ADVSPARK_* GPU settings below into spark-submit --conf options, appended to
# ADVSPARK_SUBMIT_OPTS, and runs jobs/advspark with --set device=gpu first (a later --set of yours wins).
#
#   ADVSPARK_GPUS_PER_EXECUTOR  GPUs each executor reserves (default 1): spark.executor.resource.gpu.amount
#   ADVSPARK_TASKS_PER_GPU      concurrent tasks sharing one GPU (default 1): spark.task.resource.gpu.amount
#                               = 1/N. 2 overlaps one task's PNG reading and writing with another's
#                               attack on the same GPU, at twice the GPU memory.
#   ADVSPARK_EXECUTOR_CORES     executor cores (default GPUS_PER_EXECUTOR x TASKS_PER_GPU: Spark then
#                               runs exactly as many tasks as the GPUs take)
#   ADVSPARK_EXECUTOR_MEMORY    executor JVM heap (default 8g); libtorch's memory is native, on top
#   ADVSPARK_MEMORY_OVERHEAD    native memory beside the heap (YARN, Kubernetes; default 6g): libtorch's
#                               CPU tensors, the CUDA context, pinned buffers
#   ADVSPARK_LIBTORCH           a CUDA libtorch 2.7.1 folder present on every node (its lib/ holds
#                               libtorch.so): sets PYTORCH_LIBRARY_PATH, PYTORCH_VERSION=2.7.1 and
#                               PYTORCH_FLAVOR on the executors, so DJL loads it instead of the CPU build
#                               in the jar, offline. Unset: DJL's CPU build (device = gpu then fails fast).
#   ADVSPARK_LIBTORCH_FLAVOR    the flavor of that libtorch (default cu128, the one DJL 0.36's JNI ships)
#   ADVSPARK_LIB_ON_NODES       a folder with this build's target/lib jars on every node (cluster image,
#                               shared filesystem): executors load them from there instead of fetching
#                               them from the driver (jobs/advspark)
#   ADVSPARK_DRY_RUN=1          print the spark-submit command and stop
# Spark's own options can still be given through ADVSPARK_SUBMIT_OPTS or --set spark.conf."k"="v".

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

submit_usage() {
  echo "usage: $1 MASTER_OR_TARGET COMMAND [advspark options]   e.g. $1 ${2:-} attack -c conf/tianchi2019-imagenet.conf" >&2
  exit 2
}

gpu_conf() {
  local gpus="${ADVSPARK_GPUS_PER_EXECUTOR:-1}" per="${ADVSPARK_TASKS_PER_GPU:-1}"
  [[ "$gpus" =~ ^[1-9][0-9]*$ ]] || { echo "submit: ADVSPARK_GPUS_PER_EXECUTOR must be a whole number >= 1, not '$gpus'" >&2; exit 2; }
  [[ "$per" =~ ^[1-9][0-9]*$ ]] || { echo "submit: ADVSPARK_TASKS_PER_GPU must be a whole number >= 1, not '$per'" >&2; exit 2; }
  local cores="${ADVSPARK_EXECUTOR_CORES:-$((gpus * per))}"
  [[ "$cores" =~ ^[1-9][0-9]*$ ]] || { echo "submit: ADVSPARK_EXECUTOR_CORES must be a whole number >= 1, not '$cores'" >&2; exit 2; }
  local task
  if (( per == 1 )); then task=1; else task="$(awk -v n="$per" 'BEGIN { printf "%.6g", 1 / n }')"; fi
  CONF=(
    --conf "spark.executor.resource.gpu.amount=$gpus"
    --conf "spark.task.resource.gpu.amount=$task"
    --conf "spark.executor.cores=$cores"
    --conf "spark.executor.memory=${ADVSPARK_EXECUTOR_MEMORY:-8g}"
  )
  if [[ -n "${ADVSPARK_LIBTORCH:-}" ]]; then
    CONF+=(
      --conf "spark.executorEnv.PYTORCH_LIBRARY_PATH=$ADVSPARK_LIBTORCH/lib"
      --conf "spark.executorEnv.PYTORCH_VERSION=2.7.1"
      --conf "spark.executorEnv.PYTORCH_FLAVOR=${ADVSPARK_LIBTORCH_FLAVOR:-cu128}"
    )
  fi
}

run_advspark() {
  local master="$1" command="$2"
  shift 2
  export ADVSPARK_SUBMIT_OPTS="${ADVSPARK_SUBMIT_OPTS:-} ${CONF[*]}"
  exec "$ROOT/jobs/advspark" "$command" --master "$master" --set device=gpu "$@"
}
