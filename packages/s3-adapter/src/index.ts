// The S3 adapter lands with issue 3; this package is an empty shell until then.
export {}
