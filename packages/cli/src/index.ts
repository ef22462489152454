// The varve CLI lands with issue 5; this package is an empty shell until then.
export {}
