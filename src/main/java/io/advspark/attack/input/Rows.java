package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.function.BiFunction;

/** Applies a per-row function to a batch and stacks the rows back (differentiable). */
final class Rows {
    private Rows() {}

    static NDArray map(NDArray x, BiFunction<Integer, NDArray, NDArray> f) {
        int rows = (int) x.getShape().get(0);
        NDList out = new NDList(rows);
        for (int r = 0; r < rows; r++) {
            out.add(f.apply(r, x.get(new NDIndex("{}:{}", r, r + 1))));
        }
        return NDArrays.concat(out, 0);
    }
}
