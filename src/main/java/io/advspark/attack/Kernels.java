package io.advspark.attack;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

/**
 * Smoothing kernels and the depthwise convolution that applies them (TI on gradients, the
 * Gaussian perturbation filter). Kernels are built in double precision, normalised to sum 1,
 * then rounded to float32 once, as numpy-built kernels are in the official code.
 */
public final class Kernels {
    private Kernels() {}

    /**
     * TI's Gaussian ({@code gkern} of the official TI code and of TransferAttack): a 1-D standard
     * normal density sampled at {@code size} points of {@code linspace(-nsig, nsig, size)}, outer
     * product with itself, divided by its sum. The pixel standard deviation is therefore
     * {@code (size - 1) / (2 nsig)} (2.33 px for 15 / 3).
     */
    public static float[] gkern(int size, double nsig) {
        double[] k1 = new double[size];
        for (int i = 0; i < size; i++) {
            double x = size == 1 ? 0 : -nsig + (2 * nsig) * i / (size - 1);
            k1[i] = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
        }
        return outerNormalised(k1);
    }

    /** TransferAttack's {@code ukern}: a box, every weight 1 / size^2. */
    public static float[] ukern(int size) {
        double[] k1 = new double[size];
        java.util.Arrays.fill(k1, 1.0);
        return outerNormalised(k1);
    }

    /**
     * TransferAttack's {@code lkern}: a triangle,
     * {@code 1 - |linspace((1-size)/2, (size-1)/2, size)| / (size+1) * 2}, outer product, normalised.
     */
    public static float[] lkern(int size) {
        double[] k1 = new double[size];
        for (int i = 0; i < size; i++) {
            double x = size == 1 ? 0 : (1.0 - size) / 2 + (double) (size - 1) * i / (size - 1);
            k1[i] = 1 - Math.abs(x / (size + 1) * 2);
        }
        return outerNormalised(k1);
    }

    /**
     * A Gaussian with pixel standard deviation {@code sigma}, radius {@code ceil(3 sigma)}
     * (size {@code 2 ceil(3 sigma) + 1}), normalised.
     */
    public static float[] gaussianPixels(double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        double[] k1 = new double[2 * r + 1];
        for (int i = -r; i <= r; i++) {
            k1[i + r] = Math.exp(-0.5 * (i / sigma) * (i / sigma));
        }
        return outerNormalised(k1);
    }

    private static float[] outerNormalised(double[] k1) {
        int n = k1.length;
        double sum = 0;
        double[] k2 = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                k2[i * n + j] = k1[i] * k1[j];
                sum += k2[i * n + j];
            }
        }
        float[] out = new float[n * n];
        for (int i = 0; i < k2.length; i++) {
            out[i] = (float) (k2[i] / sum);
        }
        return out;
    }

    /**
     * Depthwise convolution of {@code x} [N,C,H,W] with the square {@code kernel} (row-major,
     * side {@code sqrt(length)}) on every channel, stride 1, zero padding {@code side / 2}
     * ({@code F.conv2d(x, k, padding=(side-1)//2, groups=C)} for odd sides). Differentiable.
     */
    public static NDArray depthwise(NDArray x, float[] kernel) {
        int side = (int) Math.round(Math.sqrt(kernel.length));
        if (side * side != kernel.length) {
            throw new IllegalArgumentException("kernel is not square: " + kernel.length);
        }
        long c = x.getShape().get(1);
        float[] w = new float[(int) c * kernel.length];
        for (int i = 0; i < c; i++) {
            System.arraycopy(kernel, 0, w, i * kernel.length, kernel.length);
        }
        NDArray weight = x.getManager().create(w, new Shape(c, 1, side, side));
        NDArray bias = x.getManager().zeros(new Shape(c), x.getDataType());
        int pad = (side - 1) / 2;
        return Conv2d.conv2d(x, weight, bias, new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), (int) c)
                .singletonOrThrow();
    }
}
