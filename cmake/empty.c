/* Placeholder so an empty layer still forms a library. */
typedef int idw_empty_translation_unit;
