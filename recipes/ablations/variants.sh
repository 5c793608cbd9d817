# The ablation rows of issue 7 on the retrieval toy, one `NAME|flags` per line, flags on top of
# $TOY_MODEL (train-gpu.sh). The base row is the project's main configuration at toy scale:
# CLS landmark from a 1-layer encoder, bypassing residual, softmax fusion, per-token retrieval,
# top-4 of the 32 chunks of a 512-token sample (enforced sparsity).
TOY_MODEL="--preset tiny --d-model 64 --n-heads 4 --n-kv-heads 2 --head-dim 16 --d-ff 128
    --n-lower-layers 2 --n-upper-layers 2 --hsa-layers 0 --window 32 --chunk-size 16 --top-k 4
    --fusion softmax"
ABLATIONS=(
    "base|"
    "encoder-mean|--landmark encoder_mean"
    "mean|--landmark mean --chunk-kv identity --encoder-layers 0"
    "sequential|--residual sequential"
    "all-chunks|--top-k 32"
    "per-chunk|--retrieval per_chunk"
    "stick-breaking|--fusion stick_breaking"
    "joint|--fusion joint"
    "swa|--attention swa"
    "full|--attention full"
)
