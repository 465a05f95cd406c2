package io.advspark.data;

/**
 * One row of a Tianchi/NIPS-2017 manifest ({@code ImageId,TrueLabel,TargetClass}).
 *
 * <p>Labels are kept in the dataset's own convention (see {@code label-base}); {@code error} is
 * non-null when the row could not be parsed, in which case the labels are -1 and the row is
 * carried through the round only to be recorded as failed.
 *
 * @param rowNumber 1-based line number in the CSV, header included (so the first image is 2)
 * @param imageId file name of the image, e.g. {@code 0c7ac4a8c9dfa802.png}
 * @param trueLabel true label, dataset convention
 * @param targetLabel target label, dataset convention
 * @param error why the row is unusable, or null
 */
public record ManifestRow(int rowNumber, String imageId, int trueLabel, int targetLabel, String error)
        implements java.io.Serializable {

    public boolean ok() {
        return error == null;
    }
}
