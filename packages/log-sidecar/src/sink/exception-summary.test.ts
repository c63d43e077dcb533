import { describe, expect, it } from 'vitest';
import { tracebackFixture } from '../../test/traceback-fixtures.js';
import { exceptionSummary } from './exception-summary.js';

describe('exceptionSummary, on real Python 3.11 tracebacks', () => {
  it('reads Type: message after frames with ~~~^^^ markers', () => {
    expect(exceptionSummary(tracebackFixture('carets').traceback)).toEqual({
      type: 'ZeroDivisionError',
      message: 'float division by zero',
    });
  });

  it('takes the exception raised last from a chain, not the one it handled or was caused by', () => {
    expect(exceptionSummary(tracebackFixture('chained-during-handling').traceback)).toEqual({
      type: 'RuntimeError',
      message: 'model not loaded',
    });
    expect(exceptionSummary(tracebackFixture('chained-direct-cause').traceback)).toEqual({
      type: 'LookupError',
      message: 'bad batch size in config',
    });
  });

  it('takes the exception group itself, not its sub-exceptions', () => {
    expect(exceptionSummary(tracebackFixture('exception-group').traceback)).toEqual({
      type: 'ExceptionGroup',
      message: '2 shards failed (2 sub-exceptions)',
    });
  });

  it('reads a bare type and a type qualified by its module', () => {
    const frames = 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\n    f()';
    expect(exceptionSummary(`${frames}\nKeyboardInterrupt`)).toEqual({ type: 'KeyboardInterrupt' });
    expect(exceptionSummary(`${frames}\nrequests.exceptions.ReadTimeout: timed out`)).toEqual({
      type: 'requests.exceptions.ReadTimeout',
      message: 'timed out',
    });
  });

  it('gives nothing for text that is not a Python traceback', () => {
    expect(exceptionSummary('java.lang.RuntimeException: boom\n\tat A.main(A.java:3)')).toBeUndefined();
    expect(exceptionSummary('Traceback (most recent call last):\n  File "a.py", line 1')).toBeUndefined();
    expect(exceptionSummary('Traceback (most recent call last):\n<no exception line>')).toBeUndefined();
  });
});
