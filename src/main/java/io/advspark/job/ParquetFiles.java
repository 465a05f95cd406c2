package io.advspark.job;

import io.advspark.data.Storage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Writes a small Parquet file from inside a task, in one atomic put: the rows are encoded in
 * memory (snappy, like Spark's writer) and handed to {@link Storage#writeAtomically}, so a reader
 * sees the whole file or none of it. This is how a batch of attacked images is committed (see
 * docs/writes-and-resuming.md); Spark's DataFrame writer commits only at the end of a
 * job, which would lose a killed round's progress.
 *
 * <p>Flat schemas of string, int, long, double and boolean columns, all optional, as Spark writes
 * them: {@code spark.read().parquet} reads the files with the same {@link StructType}.
 */
public final class ParquetFiles {
    private ParquetFiles() {}

    public static void write(Storage storage, String uri, StructType schema, List<Row> rows) throws IOException {
        storage.writeAtomically(uri, encode(schema, rows));
    }

    /**
     * A Parquet file read through {@code storage}, whole, for the driver-side footer and row-group
     * check of the resume scan: record files are a batch of rows each.
     */
    static InputFile inputFile(Storage storage, String uri) throws IOException {
        byte[] bytes = storage.readAll(uri);
        return new InputFile() {
            @Override
            public long getLength() {
                return bytes.length;
            }

            @Override
            public SeekableInputStream newStream() {
                return new BytesStream(bytes);
            }

            @Override
            public String toString() {
                return uri;
            }
        };
    }

    /** A seekable stream over bytes in memory. */
    private static final class BytesStream extends DelegatingSeekableInputStream {
        private final ByteArrayInputStream in;
        private final int length;

        BytesStream(byte[] bytes) {
            this(new ByteArrayInputStream(bytes), bytes.length);
        }

        private BytesStream(ByteArrayInputStream in, int length) {
            super(in);
            this.in = in;
            this.length = length;
        }

        @Override
        public long getPos() {
            return length - in.available();
        }

        @Override
        public void seek(long newPos) throws IOException {
            if (newPos < 0 || newPos > length) {
                throw new java.io.EOFException("seek to " + newPos + " outside a file of " + length + " bytes");
            }
            in.reset(); // the mark is the start
            in.skip(newPos);
        }
    }

    static byte[] encode(StructType schema, List<Row> rows) throws IOException {
        MessageType type = messageType(schema);
        Buffer buffer = new Buffer();
        Configuration conf = new Configuration(false);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(buffer)
                .withConf(conf)
                .withType(type)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .build()) {
            SimpleGroupFactory groups = new SimpleGroupFactory(type);
            StructField[] fields = schema.fields();
            for (Row r : rows) {
                Group g = groups.newGroup();
                for (int i = 0; i < fields.length; i++) {
                    if (r.isNullAt(i)) {
                        continue;
                    }
                    DataType t = fields[i].dataType();
                    String n = fields[i].name();
                    if (t.equals(DataTypes.StringType)) {
                        g.add(n, r.getString(i));
                    } else if (t.equals(DataTypes.IntegerType)) {
                        g.add(n, r.getInt(i));
                    } else if (t.equals(DataTypes.LongType)) {
                        g.add(n, r.getLong(i));
                    } else if (t.equals(DataTypes.DoubleType)) {
                        g.add(n, r.getDouble(i));
                    } else if (t.equals(DataTypes.BooleanType)) {
                        g.add(n, r.getBoolean(i));
                    }
                }
                w.write(g);
            }
        }
        return buffer.bytes.toByteArray();
    }

    static MessageType messageType(StructType schema) {
        Types.MessageTypeBuilder b = Types.buildMessage();
        for (StructField f : schema.fields()) {
            DataType t = f.dataType();
            if (t.equals(DataTypes.StringType)) {
                b.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(f.name());
            } else if (t.equals(DataTypes.IntegerType)) {
                b.optional(PrimitiveTypeName.INT32).named(f.name());
            } else if (t.equals(DataTypes.LongType)) {
                b.optional(PrimitiveTypeName.INT64).named(f.name());
            } else if (t.equals(DataTypes.DoubleType)) {
                b.optional(PrimitiveTypeName.DOUBLE).named(f.name());
            } else if (t.equals(DataTypes.BooleanType)) {
                b.optional(PrimitiveTypeName.BOOLEAN).named(f.name());
            } else {
                throw new IllegalArgumentException("column " + f.name() + ": type " + t + " is not supported here");
            }
        }
        return b.named("spark_schema");
    }

    /** An in-memory Parquet output file. */
    private static final class Buffer implements OutputFile {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 16);

        @Override
        public PositionOutputStream create(long blockSizeHint) {
            return stream();
        }

        @Override
        public PositionOutputStream createOrOverwrite(long blockSizeHint) {
            bytes.reset();
            return stream();
        }

        @Override
        public boolean supportsBlockSize() {
            return false;
        }

        @Override
        public long defaultBlockSize() {
            return 0;
        }

        private PositionOutputStream stream() {
            return new PositionOutputStream() {
                @Override
                public long getPos() {
                    return bytes.size();
                }

                @Override
                public void write(int b) {
                    bytes.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    bytes.write(b, off, len);
                }
            };
        }
    }
}
