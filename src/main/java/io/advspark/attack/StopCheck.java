package io.advspark.attack;

/**
 * Early exit of a batch ({@code attack.stop}): after every {@link #everySteps()} steps the engine
 * hands the images it would output now (the iterate, or its filtered image) for the images still
 * running, and those reported done leave the batch: their output is kept as it was at that check,
 * and the rest of the batch runs on without them (an image's draws and arithmetic do not depend
 * on its batch-mates, so the others' results are unchanged). The engine knows nothing of which
 * models decide; the caller quantises and queries them.
 */
public interface StopCheck {
    /** Steps between two checks (the last step is never checked: the output is final anyway). */
    int everySteps();

    /**
     * Which of the running images meet the objective.
     *
     * @param stepsDone steps run so far (a multiple of {@link #everySteps()})
     * @param images NCHW floats in [0,1] of the running images, in batch order
     * @param shape {@code [running, 3, H, W]}
     * @param running each running image's index in the batch given to the engine
     * @return per running image, true when it is done
     */
    boolean[] done(int stepsDone, float[] images, long[] shape, int[] running);
}
