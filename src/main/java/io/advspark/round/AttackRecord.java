package io.advspark.round;

/**
 * One row of the {@code records} table ({@link RecordTables#RECORDS}): what happened to one
 * manifest row under one attack. Labels in the dataset's convention; norms of the written PNG in
 * 0..255 units; null where a failed image has no value. Built with {@link #builder()}; the order
 * of the components is the table's column order, checked by {@link #values()}.
 */
public record AttackRecord(
        String roundId,
        String attackSpec,
        String imageId,
        int manifestRow,
        Integer trueLabel,
        Integer targetLabel,
        Integer cleanPred,
        Integer advPred,
        Boolean cleanCorrect,
        Boolean untargetedSuccess,
        Boolean targetedSuccess,
        Integer linf,
        Double l2,
        Integer steps,
        Integer batchSize,
        Long wallMs,
        String executorId,
        String device,
        String outputFile,
        String error,
        Long pngBytes,
        Long pngCrc32c,
        String modelSha256,
        String cardSha256,
        String surrogateSettings,
        String manifestSha256,
        Integer zeroGradientSteps,
        Double eps,
        Integer stopChecks,
        Boolean met,
        String search,
        Integer searchSteps) {

    /** The row's values in column order, checked against the schema. */
    public Object[] values() {
        return RecordTables.RECORDS.check(new Object[] {
            roundId,
            attackSpec,
            imageId,
            manifestRow,
            trueLabel,
            targetLabel,
            cleanPred,
            advPred,
            cleanCorrect,
            untargetedSuccess,
            targetedSuccess,
            linf,
            l2,
            steps,
            batchSize,
            wallMs,
            executorId,
            device,
            outputFile,
            error,
            pngBytes,
            pngCrc32c,
            modelSha256,
            cardSha256,
            surrogateSettings,
            manifestSha256,
            zeroGradientSteps,
            eps,
            stopChecks,
            met,
            search,
            searchSteps
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Sets components by name; unset ones stay null (and 0 for {@code manifestRow}). */
    public static final class Builder {
        private String roundId;
        private String attackSpec;
        private String imageId;
        private int manifestRow;
        private Integer trueLabel;
        private Integer targetLabel;
        private Integer cleanPred;
        private Integer advPred;
        private Boolean cleanCorrect;
        private Boolean untargetedSuccess;
        private Boolean targetedSuccess;
        private Integer linf;
        private Double l2;
        private Integer steps;
        private Integer batchSize;
        private Long wallMs;
        private String executorId;
        private String device;
        private String outputFile;
        private String error;
        private Long pngBytes;
        private Long pngCrc32c;
        private String modelSha256;
        private String cardSha256;
        private String surrogateSettings;
        private String manifestSha256;
        private Integer zeroGradientSteps;
        private Double eps;
        private Integer stopChecks;
        private Boolean met;
        private String search;
        private Integer searchSteps;

        private Builder() {}

        public Builder roundId(String v) {
            this.roundId = v;
            return this;
        }

        public Builder attackSpec(String v) {
            this.attackSpec = v;
            return this;
        }

        public Builder imageId(String v) {
            this.imageId = v;
            return this;
        }

        public Builder manifestRow(int v) {
            this.manifestRow = v;
            return this;
        }

        public Builder trueLabel(Integer v) {
            this.trueLabel = v;
            return this;
        }

        public Builder targetLabel(Integer v) {
            this.targetLabel = v;
            return this;
        }

        public Builder cleanPred(Integer v) {
            this.cleanPred = v;
            return this;
        }

        public Builder advPred(Integer v) {
            this.advPred = v;
            return this;
        }

        public Builder cleanCorrect(Boolean v) {
            this.cleanCorrect = v;
            return this;
        }

        public Builder untargetedSuccess(Boolean v) {
            this.untargetedSuccess = v;
            return this;
        }

        public Builder targetedSuccess(Boolean v) {
            this.targetedSuccess = v;
            return this;
        }

        public Builder linf(Integer v) {
            this.linf = v;
            return this;
        }

        public Builder l2(Double v) {
            this.l2 = v;
            return this;
        }

        public Builder steps(Integer v) {
            this.steps = v;
            return this;
        }

        public Builder batchSize(Integer v) {
            this.batchSize = v;
            return this;
        }

        public Builder wallMs(Long v) {
            this.wallMs = v;
            return this;
        }

        public Builder executorId(String v) {
            this.executorId = v;
            return this;
        }

        public Builder device(String v) {
            this.device = v;
            return this;
        }

        public Builder outputFile(String v) {
            this.outputFile = v;
            return this;
        }

        public Builder error(String v) {
            this.error = v;
            return this;
        }

        public Builder pngBytes(Long v) {
            this.pngBytes = v;
            return this;
        }

        public Builder pngCrc32c(Long v) {
            this.pngCrc32c = v;
            return this;
        }

        public Builder modelSha256(String v) {
            this.modelSha256 = v;
            return this;
        }

        public Builder cardSha256(String v) {
            this.cardSha256 = v;
            return this;
        }

        public Builder surrogateSettings(String v) {
            this.surrogateSettings = v;
            return this;
        }

        public Builder manifestSha256(String v) {
            this.manifestSha256 = v;
            return this;
        }

        public Builder zeroGradientSteps(Integer v) {
            this.zeroGradientSteps = v;
            return this;
        }

        public Builder eps(Double v) {
            this.eps = v;
            return this;
        }

        public Builder stopChecks(Integer v) {
            this.stopChecks = v;
            return this;
        }

        public Builder met(Boolean v) {
            this.met = v;
            return this;
        }

        public Builder search(String v) {
            this.search = v;
            return this;
        }

        public Builder searchSteps(Integer v) {
            this.searchSteps = v;
            return this;
        }

        /** The four provenance columns every row carries (see {@link Provenance}). */
        public Builder provenance(Provenance p) {
            return modelSha256(p.modelSha256()).cardSha256(p.cardSha256()).surrogateSettings(p.surrogateSettings())
                    .manifestSha256(p.manifestSha256());
        }

        public AttackRecord build() {
            return new AttackRecord(roundId, attackSpec, imageId, manifestRow, trueLabel, targetLabel, cleanPred, advPred,
                    cleanCorrect, untargetedSuccess, targetedSuccess, linf, l2, steps, batchSize, wallMs, executorId, device,
                    outputFile, error, pngBytes, pngCrc32c, modelSha256, cardSha256, surrogateSettings, manifestSha256,
                    zeroGradientSteps, eps, stopChecks, met, search, searchSteps);
        }
    }
}
