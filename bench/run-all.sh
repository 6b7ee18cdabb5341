#!/usr/bin/env bash
# Runs every benchmark row of docs/benchmarks.md side by side on this machine and prints one table.
#
#   bench/run-all.sh [WORK_DIR] [REPS]        (default WORK_DIR=/tmp/refact-bench, REPS=20)
#   STATS_SAMPLES=N shortens the statistics row (default 2312 WordNet lines, as in issue 11).
#
# Needs: the project built (mvn -B -DskipTests package); Debian's python3-torch with OpenBLAS
# (apt-get install -y python3-torch libopenblas0-pthread) for the eager row and the ONNX export; Maven Central
# reachable once, to resolve ONNX Runtime 1.24.2 for the benchmark-only harness bench/ort (never a runtime
# dependency of refact-java). Rows whose prerequisites are missing are reported as "skipped".
#
# Rows: (1) refact-java `refact bench encoder` on OpenBLAS, and on Intel oneMKL when built with -Pmkl; (2) PyTorch
# eager (bench/clip_text_eager.py, same weights) on OpenBLAS with 1 torch thread (the issue-11 baseline) and, with
# the MKL build, on MKL preloaded (what PyPI wheels use) with 1 and 2 torch threads: the strongest eager here;
# (3) ONNX Runtime (opt level ALL, 2 intra-op threads) on a torch.onnx.export of the same encoder; (4) `refact stats`
# (layer 7, 2,312 WordNet lines) and `refact bench edit` (100 steps) peak RSS via /usr/bin/time -v, per BLAS.
# The load average is printed with every row: compare rows only when it is low.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/refact-bench}"
reps="${2:-20}"
py="${PYTHON:-/usr/bin/python3}"
refact="$here/bin/refact"
mkdir -p "$work"
results="$work/results.txt"
: > "$results"

load() { cut -d' ' -f1-3 /proc/loadavg; }
lastjson() { grep '^{' "$1" | tail -1; }
field() { sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" <<<"$1"; }
row() { printf '%-34s | %10s | %10s | %-14s | %s\n' "$1" "$2" "$3" "$4" "$5" | tee -a "$results"; }
peak() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$1" | awk '{printf "%.0f MiB", $1/1024}'; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB;" \
     "date $(date -u +%Y-%m-%dT%H:%MZ); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
model="$work/sd15"
if [ ! -f "$model/text_encoder/model.safetensors" ]; then
  echo "generating the full-size seeded random SD 1.x text encoder in $model ..."
  "$refact" bench random-model --out "$model" --seed 1234 \
      --tokenizer "${REFACT_TOKENIZER:-$here/../shared/data/clip-tokenizer}" >/dev/null || exit 1
fi
row "engine" "batch 1 ms" "batch 8 ms" "load avg" "notes"
row "----------------------------------" "----------" "----------" "--------------" "-----"

# refact-java on OpenBLAS always; on MKL when the build has it (mvn -B -DskipTests -Pmkl package puts
# org.bytedeco:mkl in refact-examples/target/lib). The CLI's default JVM options are repeated with -Drefact.blas.
jvm="-XX:+UseSerialGC -Xms64m -Xmx1g"
mkljar=$(ls "$here"/refact-examples/target/lib/mkl-*-redist.jar 2>/dev/null | head -1)
blases="openblas"; [ -n "$mkljar" ] && blases="openblas mkl"
# The eager baseline on MKL too (what PyPI's torch wheels use): Debian's torch calls the BLAS through libblas.so.3,
# so preloading MKL's single dynamic library (mkl_rt, with its OpenMP runtime) puts every sgemm_ on MKL.
mkllibs=""
if [ -n "$mkljar" ]; then
  mkllibs="$work/mkl-libs"
  if [ ! -f "$mkllibs/libmkl_rt.so.2" ]; then
    mkdir -p "$mkllibs" && unzip -q -o -j "$mkljar" 'org/bytedeco/mkl/linux-x86_64/*.so*' -d "$mkllibs"
  fi
fi
eager() { # $1 label, $2 threads, $3 "mkl" or "" ; prints a row
  local l j; l=$(load)
  if [ "$3" = mkl ]; then
    LD_LIBRARY_PATH="$mkllibs" LD_PRELOAD="$mkllibs/libiomp5.so $mkllibs/libmkl_rt.so.2" \
      "$py" "$here/bench/clip_text_eager.py" --model "$model/text_encoder" --reps "$reps" --threads "$2" \
      > "$work/eager.txt" 2>&1
  else
    "$py" "$here/bench/clip_text_eager.py" --model "$model/text_encoder" --reps "$reps" --threads "$2" \
      > "$work/eager.txt" 2>&1
  fi
  j=$(lastjson "$work/eager.txt")
  row "$1" "$(field "$j" batch1_ms)" "$(field "$j" batch8_ms)" "$l" "round $round, $2 torch thread(s)"
}

for round in 1 2; do
  for blas in $blases; do
    l=$(load)
    REFACT_JAVA_OPTS="$jvm -Drefact.blas=$blas" "$refact" bench encoder --model "$model/text_encoder" --reps "$reps" \
        > "$work/refact-encoder.$blas.$round.txt" 2>&1
    j=$(lastjson "$work/refact-encoder.$blas.$round.txt")
    row "refact-java ($blas)" "$(field "$j" batch1_ms)" "$(field "$j" batch8_ms)" "$l" \
        "round $round, $(sed -n 's/^runtime: .*(\(.*\)).*/\1/p' "$work/refact-encoder.$blas.$round.txt" | head -1)"
  done

  if "$py" -c "import torch" 2>/dev/null; then
    tv=$("$py" -c 'import torch;print(torch.__version__)' 2>/dev/null)
    eager "PyTorch eager $tv + OpenBLAS" 1 ""
    if [ -n "$mkllibs" ]; then
      eager "PyTorch eager $tv + MKL" 1 mkl
      eager "PyTorch eager $tv + MKL" 2 mkl
    fi
  else
    row "PyTorch eager" "skipped" "skipped" "$(load)" "no python3 torch"
  fi

  l=$(load)
  onnx="$model/text_encoder.onnx"
  if [ ! -f "$onnx" ] && "$py" -c "import torch" 2>/dev/null; then
    "$py" "$here/bench/clip_text_eager.py" --model "$model/text_encoder" --export-onnx "$onnx" >/dev/null 2>&1
  fi
  cpfile="$work/ort-classpath.txt"
  if [ ! -s "$cpfile" ]; then
    mvn -B -q -f "$here/bench/ort/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cpfile" >/dev/null 2>&1
  fi
  if [ -f "$onnx" ] && [ -s "$cpfile" ]; then
    java -cp "$(cat "$cpfile")" "$here/bench/ort/OrtBench.java" "$onnx" "$reps" 2 > "$work/ort.$round.txt" 2>&1
    j=$(lastjson "$work/ort.$round.txt")
    row "ONNX Runtime 1.24.2 (opt ALL)" "$(field "$j" batch1_ms)" "$(field "$j" batch8_ms)" "$l" "round $round, 2 intra-op threads"
  else
    row "ONNX Runtime 1.24.2" "skipped" "skipped" "$l" "no export or no onnxruntime jar"
  fi
done

for blas in $blases; do
  stats="$model/layer7.stats.safetensors"
  rm -f "$stats"
  l=$(load)
  REFACT_JAVA_OPTS="$jvm -Drefact.blas=$blas" /usr/bin/time -v "$refact" stats --model "$model" --layer 7 \
      --samples "${STATS_SAMPLES:-2312}" --out "$stats" > "$work/stats.$blas.txt" 2> "$work/stats.$blas.err"
  tps=$(tr '\r' '\n' < "$work/stats.$blas.err" | grep -o '[0-9,]* tokens/s' | tail -1)
  row "refact stats ($blas, ${STATS_SAMPLES:-2312} lines, L7)" "-" "-" "$l" \
      "peak RSS $(peak "$work/stats.$blas.err"), $tps"

  l=$(load)
  REFACT_JAVA_OPTS="$jvm -Drefact.blas=$blas" /usr/bin/time -v "$refact" bench edit --model "$model" --stats "$stats" \
      --steps 100 > "$work/edit.$blas.txt" 2> "$work/edit.$blas.err"
  j=$(lastjson "$work/edit.$blas.txt")
  row "refact bench edit ($blas, 100 steps)" "-" "-" "$l" \
      "peak RSS $(peak "$work/edit.$blas.err"), edit $(field "$j" edit_ms) ms, step $(field "$j" step_ms) ms"
done

echo
echo "released ReFACT code (quoted from issue 11, same kind of machine): 116-127 s per 99-step edit text-only," \
     "514-549 s as its README runs it; 229 s for C over the 2,312-line corpus; peak RSS 1.63-1.73 GiB (edit)," \
     "1.67 GiB (stats)."
echo "table saved in $results; raw outputs in $work"
