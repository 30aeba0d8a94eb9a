export { DataError, type ErrorData } from './data.error';
